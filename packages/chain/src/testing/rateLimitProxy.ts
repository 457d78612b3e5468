import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A JSON-RPC proxy on loopback that refuses requests for their rate, as hosted
 * providers do: the next `n` requests get HTTP 429 (`'http'`) or the JSON-RPC error
 * -32005 "limit exceeded" (`'rpc'`); a method named in `refuse` is answered with a
 * JSON-RPC error, as a provider's policy refuses a request (a fee over its cap);
 * everything else reaches the real chain behind it. For tests of retries.
 */
export interface RateLimitProxy {
  url: string
  /** Refuses the next `n` requests the given way. */
  limitNext(n: number, how: 'http' | 'rpc'): void
  /** Answers every request of `method` with the JSON-RPC error `message` (undefined: forwards them again). */
  refuse(method: string, message: string | undefined): void
  /** Requests refused so far. */
  refused: number
  /** Requests forwarded so far. */
  forwarded: number
  close(): Promise<void>
}

export async function startRateLimitProxy (target: string): Promise<RateLimitProxy> {
  const state = { left: 0, how: 'http' as 'http' | 'rpc', refused: 0, forwarded: 0 }
  const refusing = new Map<string, string>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8')
        if (state.left > 0) {
          state.left--
          state.refused++
          if (state.how === 'http') {
            res.writeHead(429, { 'content-type': 'text/plain' })
            res.end('Too Many Requests')
            return
          }
          const { id } = JSON.parse(body) as { id: unknown }
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32005, message: 'limit exceeded' } }))
          return
        }
        const { id, method } = JSON.parse(body) as { id: unknown, method: string }
        const refusal = refusing.get(method)
        if (refusal !== undefined) {
          state.refused++
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message: refusal } }))
          return
        }
        state.forwarded++
        try {
          const answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          res.writeHead(answer.status, { 'content-type': 'application/json' })
          res.end(await answer.text())
        } catch (error) {
          res.writeHead(502)
          res.end(String(error))
        }
      })()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    limitNext (n, how) { state.left = n; state.how = how },
    refuse (method, message) { if (message === undefined) refusing.delete(method); else refusing.set(method, message) },
    get refused () { return state.refused },
    get forwarded () { return state.forwarded },
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

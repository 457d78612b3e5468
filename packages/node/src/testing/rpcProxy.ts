import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A JSON-RPC proxy on loopback in front of a devnet, behaving like the hosted providers
 * nodes meet in practice: it refuses `eth_getLogs` over more than `maxLogRange` blocks
 * (as many providers do, at 1,000), can answer slowly (`delayMs`), can fail the next
 * requests of a method on purpose (`failNext`), or lose the answer to one the chain did
 * take (`loseAnswer`), stop the chain's mining as a request goes through (`holdMining`,
 * a chain that stalls on a transaction), and counts every request by method.
 * For tests: the real chain answers everything it lets through.
 */

export interface RpcProxy {
  url: string
  /** Requests seen, by method. */
  counts: Map<string, number>
  /** eth_getLogs refused for spanning too many blocks. */
  refusedRanges: number
  /** Fails the next `n` requests of `method` with a JSON-RPC error. */
  failNext(method: string, n: number): void
  /**
   * Passes the next request of `method` whose params `when` picks to the chain and
   * answers it with an error, as a provider that timed out after the chain took a transaction.
   */
  loseAnswer(method: string, when: (params: unknown[]) => boolean): void
  /**
   * Turns the chain's automining off before it passes on any request of `method` whose
   * params `when` picks (until `release`), so that transaction waits in the pool.
   */
  holdMining(method: string, when: (params: unknown[]) => boolean): void
  /** Stops holding, turns automining back on and mines a block. */
  release(): Promise<void>
  /** Requests failed on purpose so far. */
  failed: number
  total(): number
  close(): Promise<void>
}

export interface RpcProxyOptions {
  target: string
  maxLogRange?: number
  delayMs?: number
}

interface RpcRequest { id: unknown, method: string, params?: unknown[] }

export async function startRpcProxy (options: RpcProxyOptions): Promise<RpcProxy> {
  const counts = new Map<string, number>()
  const failing = new Map<string, number>()
  const losing = new Map<string, (params: unknown[]) => boolean>()
  const holding = new Map<string, (params: unknown[]) => boolean>()
  const proxy = { refusedRanges: 0, failed: 0 }
  const forward = async (body: unknown): Promise<unknown> => {
    const response = await fetch(options.target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return response.json()
  }
  const blockOf = async (tag: unknown): Promise<bigint> => {
    if (typeof tag === 'string' && tag.startsWith('0x')) return BigInt(tag)
    if (tag === 'earliest') return 0n
    const answer = await forward({ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] }) as { result: string }
    return BigInt(answer.result)
  }
  const one = async (request: RpcRequest): Promise<unknown> => {
    counts.set(request.method, (counts.get(request.method) ?? 0) + 1)
    const left = failing.get(request.method) ?? 0
    if (left > 0) {
      failing.set(request.method, left - 1)
      proxy.failed++
      return { jsonrpc: '2.0', id: request.id, error: { code: -32000, message: `injected failure of ${request.method}` } }
    }
    if (request.method === 'eth_getLogs' && options.maxLogRange !== undefined) {
      const filter = (request.params?.[0] ?? {}) as { fromBlock?: unknown, toBlock?: unknown, blockHash?: unknown }
      if (filter.blockHash === undefined) {
        const span = await blockOf(filter.toBlock ?? 'latest') - await blockOf(filter.fromBlock ?? 'latest') + 1n
        if (span > BigInt(options.maxLogRange)) {
          proxy.refusedRanges++
          return { jsonrpc: '2.0', id: request.id, error: { code: -32602, message: `block range too large: ${span} blocks, at most ${options.maxLogRange}` } }
        }
      }
    }
    if (holding.get(request.method)?.(request.params ?? []) === true) {
      await forward({ jsonrpc: '2.0', id: 0, method: 'evm_setAutomine', params: [false] })
    }
    const when = losing.get(request.method)
    if (when?.(request.params ?? []) === true) {
      losing.delete(request.method)
      await forward(request)
      proxy.failed++
      return { jsonrpc: '2.0', id: request.id, error: { code: -32000, message: `the answer to ${request.method} was lost` } }
    }
    return forward(request)
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      void (async () => {
        try {
          if (options.delayMs !== undefined) await new Promise(resolve => setTimeout(resolve, options.delayMs))
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RpcRequest | RpcRequest[]
          const answer = Array.isArray(body) ? await Promise.all(body.map(one)) : await one(body)
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify(answer))
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
    counts,
    get refusedRanges () { return proxy.refusedRanges },
    get failed () { return proxy.failed },
    failNext (method, n) { failing.set(method, n) },
    loseAnswer (method, when) { losing.set(method, when) },
    holdMining (method, when) { holding.set(method, when) },
    async release () {
      holding.clear()
      await forward({ jsonrpc: '2.0', id: 0, method: 'evm_setAutomine', params: [true] })
      await forward({ jsonrpc: '2.0', id: 0, method: 'evm_mine', params: [] })
    },
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

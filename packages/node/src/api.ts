import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { NodeState } from './state.ts'

/**
 * The node's read-only HTTP API on loopback, for the explorer and for scripts:
 *   GET /status        who the node is, its roles, peers and chain
 *   GET /jobs          jobs the node has seen and its part in each
 *   GET /jobs/:id      one job (every role the node played in it)
 *   GET /runs          training runs
 *   GET /disputes      disputes the node opened or defended
 * Answers are JSON; unknown paths and ids are 404 with {error}.
 */

export interface ApiServer {
  url: string
  close(): Promise<void>
}

export async function startApi (state: NodeState, status: () => Record<string, unknown>, port = 0): Promise<ApiServer> {
  const server: Server = createServer((request, response) => {
    const send = (code: number, body: unknown): void => {
      response.writeHead(code, { 'content-type': 'application/json' })
      response.end(JSON.stringify(body, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v, 2) + '\n')
    }
    if (request.method !== 'GET') { send(405, { error: `${request.method ?? ''} is not allowed; the API is read-only` }); return }
    const path = new URL(request.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '')
    try {
      if (path === '/status' || path === '') { send(200, status()); return }
      if (path === '/jobs') { send(200, state.jobs()); return }
      if (path === '/runs') { send(200, state.runs()); return }
      if (path === '/disputes') { send(200, state.disputes()); return }
      const job = /^\/jobs\/(\d+)$/.exec(path)
      if (job !== null) {
        const rows = state.jobs().filter(j => j.jobId === job[1])
        if (rows.length === 0) send(404, { error: `this node has not seen job ${job[1]}` })
        else send(200, rows)
        return
      }
      send(404, { error: `no route ${path}; try /status, /jobs, /jobs/:id, /runs or /disputes` })
    } catch (error) {
      send(500, { error: (error as Error).message })
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const { port: bound } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${bound}`,
    close: async () => await new Promise<void>(resolve => server.close(() => resolve()))
  }
}

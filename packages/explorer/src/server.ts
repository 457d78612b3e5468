import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isBaseError } from '@commons/errors'
import type { ExplorerContext } from './context.ts'
import { ContentMissingError, NotIndexedError } from './errors.ts'
import { ROUTES } from './routes.ts'
import { fileBytes } from './views/datasets.ts'
import { sendVersionCar } from './views/versionCar.ts'
import { sendRunGguf } from './views/modelGguf.ts'

/**
 * The explorer's HTTP server: the JSON API, downloads (a file of a version, a whole version
 * as a CAR), and the
 * static front end with its chart library served from node_modules (nothing is loaded
 * from elsewhere: the pages work offline and leak nothing).
 */

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', 'web')
const require = createRequire(import.meta.url)
const UPLOT = join(dirname(require.resolve('uplot')), '..', 'dist')
// dagre lays out the lineage graph (versions, DAOs, forks); its browser build is one global script.
const DAGRE = dirname(require.resolve('@dagrejs/dagre'))

/** URL path to [file, content type]: a fixed list, so no request names an arbitrary file. */
const STATIC: Record<string, [string, string]> = {
  '/': [join(WEB, 'index.html'), 'text/html; charset=utf-8'],
  '/app.js': [join(WEB, 'app.js'), 'text/javascript; charset=utf-8'],
  '/format.js': [join(WEB, 'format.js'), 'text/javascript; charset=utf-8'],
  '/draw.js': [join(WEB, 'draw.js'), 'text/javascript; charset=utf-8'],
  '/style.css': [join(WEB, 'style.css'), 'text/css; charset=utf-8'],
  '/vendor/uPlot.iife.min.js': [join(UPLOT, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  '/vendor/uPlot.min.css': [join(UPLOT, 'uPlot.min.css'), 'text/css; charset=utf-8'],
  '/vendor/dagre.min.js': [join(DAGRE, 'dagre.min.js'), 'text/javascript; charset=utf-8']
}

const json = (res: ServerResponse, status: number, body: unknown, indexedTo = ''): void => {
  // x-indexed-to: the block the answer was drawn from, so a page knows when it is behind.
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-indexed-to': indexedTo })
  res.end(JSON.stringify(body, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v))
}

async function handle (ctx: ExplorerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://explorer')
  if (req.method !== 'GET' && req.method !== 'HEAD') { json(res, 405, { error: { name: 'MethodNotAllowed', message: 'the explorer only reads' } }); return }
  const asset = STATIC[url.pathname]
  if (asset !== undefined) {
    res.writeHead(200, { 'content-type': asset[1] })
    res.end(await readFile(asset[0]))
    return
  }
  // /files/<version CID>/<path inside the version>: a download.
  const file = /^\/files\/([^/]+)\/(.+)$/.exec(url.pathname)
  if (file !== null) {
    const path = decodeURIComponent(file[2])
    const bytes = await fileBytes(ctx, file[1], path)
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length, 'content-disposition': `attachment; filename="${path.split('/').at(-1)?.replace(/"/g, '') ?? 'file'}"` })
    res.end(bytes)
    return
  }
  const car = /^\/car\/([^/]+)$/.exec(url.pathname)
  if (car !== null) {
    await sendVersionCar(ctx, car[1], res)
    return
  }
  // /gguf/<run CID>?job=ID: the run's model converted to GGUF, the job recorded as its provenance.
  const gguf = /^\/gguf\/([^/]+)$/.exec(url.pathname)
  if (gguf !== null) {
    const job = url.searchParams.get('job')
    await sendRunGguf(ctx, gguf[1], job !== null && /^\d+$/.test(job) ? job : null, res)
    return
  }
  for (const [pattern, view] of ROUTES) {
    const match = pattern.exec(url.pathname)
    if (match === null) continue
    const indexedTo = ctx.index.meta('indexedTo') ?? ''
    json(res, 200, await view(ctx, match.slice(1).map(decodeURIComponent), url.searchParams), indexedTo)
    return
  }
  json(res, 404, { error: { name: 'NotFound', message: `nothing at ${url.pathname}`, hint: 'the API lives under /api/' } })
}

export function createExplorerServer (ctx: ExplorerContext, log: (line: string) => void = () => {}): Server {
  return createServer((req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      // Content that fails its hash is no fault of the request: 502, as from a bad upstream.
      const status = error instanceof NotIndexedError || error instanceof ContentMissingError ? 404 : isBaseError(error) && error.name === 'CorruptBlockError' ? 502 : isBaseError(error) ? 400 : 500
      const body = isBaseError(error)
        ? { name: error.name, message: error.message, hint: error.hint, details: error.details }
        : { name: 'InternalError', message: 'the explorer failed to answer this request', hint: 'its log says why' }
      if (status === 500) log(`error answering ${req.url ?? ''}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
      if (!res.headersSent) json(res, status, { error: body })
      else res.end()
    })
  })
}

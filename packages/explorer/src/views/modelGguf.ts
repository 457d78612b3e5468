import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { exportVersion } from '@commons/store'
import type { ExplorerContext } from '../context.ts'
import { parseCid, present } from './datasets.ts'

/**
 * A trained run's model as GGUF (llama.cpp, Ollama): the run's version exported (every
 * block checked) and converted by @commons/models' exporter, with the job and the run's
 * roots written into its metadata as provenance. Made whole in a temp folder before a
 * byte is sent, so a failed conversion is an error, never half a file.
 */
export async function sendRunGguf (ctx: ExplorerContext, run: string, jobId: string | null, out: Writable & { writeHead: (status: number, headers: Record<string, string | number>) => unknown }): Promise<void> {
  const cid = parseCid(run)
  await present(ctx, cid)
  const dir = await mkdtemp(join(tmpdir(), 'commons-explorer-gguf-'))
  try {
    await exportVersion(ctx.content.store, cid.toString(), join(dir, 'run'))
    // Loaded on the first GGUF asked for: the exporter brings the engine and tokenizer with it.
    const { exportGguf } = await import('@commons/models')
    const model = await exportGguf({ run: join(dir, 'run'), out: join(dir, 'model.gguf'), ...(jobId === null ? {} : { jobId }) })
    out.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': model.bytes, 'content-disposition': `attachment; filename="${jobId === null ? run : `job-${jobId}`}.gguf"` })
    await pipeline(createReadStream(model.path), out)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { exportCar } from '@commons/store'
import type { ExplorerContext } from '../context.ts'
import { versionView } from './datasets.ts'

/**
 * A whole version (commit, history, tree, every chunk) as a CARv1, what `ipfs dag import`
 * and pinning services take. Written whole to a temp file first, every block checked,
 * so a damaged block fails the download before a byte of it is sent.
 */
export async function sendVersionCar (ctx: ExplorerContext, version: string, out: Writable & { writeHead: (status: number, headers: Record<string, string | number>) => unknown }): Promise<void> {
  await versionView(ctx, version)
  const dir = await mkdtemp(join(tmpdir(), 'commons-explorer-car-'))
  try {
    const file = join(dir, 'version.car')
    const { bytes } = await exportCar(ctx.content.store, version, file)
    out.writeHead(200, { 'content-type': 'application/vnd.ipld.car', 'content-disposition': `attachment; filename="${version}.car"`, 'x-content-bytes': bytes })
    await pipeline(createReadStream(file), out)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

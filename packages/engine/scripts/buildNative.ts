// Builds the optional native kernels (native/kernels.c → build/kernels.node) with the
// system C compiler against Node's N-API headers. Where either is missing, or the
// compile fails, it says so and exits 0: the WebAssembly kernels give the same results.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'build', 'kernels.node')
const headers = [process.env.NODE_API_HEADERS, join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']
  .find(dir => dir !== undefined && existsSync(join(dir, 'node_api.h')))

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`native kernels skipped: built for linux-x64 only (this is ${process.platform}-${process.arch})`)
} else if (headers === undefined) {
  console.error('native kernels skipped: no node_api.h found (set NODE_API_HEADERS); the WebAssembly kernels will run')
} else {
  mkdirSync(dirname(out), { recursive: true })
  // A failed build must not leave an older binary behind.
  rmSync(out, { force: true })
  try {
    // -ffp-contract=off: no fused multiply-add, so every product and sum rounds as binary32 requires.
    execFileSync(process.env.CC ?? 'cc', ['-O3', '-ffp-contract=off', '-fno-fast-math', '-shared', '-fPIC', `-I${headers}`,
      '-DNODE_GYP_MODULE_NAME=commons_kernels', '-o', `${out}.tmp`, join(root, 'native', 'kernels.c'), '-lpthread'], { stdio: ['ignore', 'ignore', 'pipe'] })
    renameSync(`${out}.tmp`, out)
    console.error('built native kernels (build/kernels.node)')
  } catch (error) {
    console.error(`native kernels skipped: the compile failed (${String((error as { stderr?: Buffer }).stderr ?? error).trim().split('\n')[0]}); the WebAssembly kernels will run`)
  }
}

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))

/** What `npm run build` makes and every command needs at load time. */
export const BUILD_OUTPUTS = [
  'packages/chain/src/generated/contracts.ts',
  'packages/chain/src/generated/enums.ts',
  'packages/protocol/build/merkle.wasm',
  'packages/engine/build/kernels.wasm'
]

export const missingBuildOutputs = (): string[] => BUILD_OUTPUTS.filter(path => !existsSync(REPO + path))

/**
 * Builds the repo once when its build outputs are missing (an install with
 * --ignore-scripts, or a build interrupted): `npm ci` runs the build in `prepare`, so
 * this is the fallback. Returns the exit code: 0 when everything is there.
 * The build's output goes to stderr, so stdout stays clean for pipes.
 */
export function ensureBuilt (json: boolean): number {
  const missing = missingBuildOutputs()
  if (missing.length === 0) return 0
  process.stderr.write(`commons is not built yet (${missing.join(', ')} missing): running npm run build once (about a minute)...\n`)
  const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: ['ignore', 2, 2], shell: process.platform === 'win32' })
  const still = missingBuildOutputs()
  if (build.status === 0 && still.length === 0) return 0
  const error = {
    name: 'BuildMissingError',
    message: `the build of commons failed${build.error !== undefined ? ` (${build.error.message})` : ''}, so ${still.join(', ') || 'its outputs'} are missing`,
    hint: `run npm run build in ${REPO} and read its errors`
  }
  process.stderr.write(json ? `${JSON.stringify({ error })}\n` : `error: ${error.message}\nhint: ${error.hint}\n`)
  return 1
}

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

/**
 * A child process keeps a 30 MB heap alive and churns through 1 GB of 64 KiB Buffers (as
 * a node's socket reads and decrypted frames do), counting V8's full collections.
 */
function fullCollections (apply: boolean): number {
  const script = [
    `import { applyHeapSettings } from ${JSON.stringify(join(import.meta.dirname, 'heapSettings.ts'))}`,
    "import { PerformanceObserver, constants } from 'node:perf_hooks'",
    apply ? 'applyHeapSettings()' : '',
    'let major = 0',
    'new PerformanceObserver(list => { for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++ }).observe({ entryTypes: ["gc"] })',
    'const live = Array.from({ length: 200_000 }, (_, i) => ({ i, name: "block-" + i, links: [i, i + 1] }))',
    'for (let i = 0; i < 16_384; i++) {',
    '  Buffer.allocUnsafeSlow(65_536)[0] = i',
    '  if (i % 64 === 0) await new Promise(resolve => setImmediate(resolve))',
    '}',
    'await new Promise(resolve => setTimeout(resolve, 20))',
    'console.log(live.length === 200_000 ? major : -1)'
  ].join('\n')
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  return Number(run.stdout.trim())
}

describe('heap settings of a node', () => {
  it('keep a GB of short-lived Buffers from running a full collection every 64 MiB', () => {
    const before = fullCollections(false)
    const after = fullCollections(true)
    assert.ok(before >= 8, `V8's default marks the heap for every 64 MiB of Buffers (${before} full collections for 1 GB)`)
    assert.ok(after <= 2, `with the settings, at most 2 (${after}): the flag took effect in this Node`)
  })
})

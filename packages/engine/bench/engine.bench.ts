import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { BenchResult } from '../../../bench/table.ts'
import { initialState, readRecipe, stateRootOf, tablesFor, trainStep, toHex, uniform, useBackend, Tensor } from '../src/index.ts'
import { referenceMatmul } from '../src/ops.ts'
import { WasmBackend } from '../src/wasmBackend.ts'

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))
const repo = fileURLToPath(new URL('../../../', import.meta.url))

/** Runs a Python reference; null (with the reason) when it cannot run here. */
function python (interpreter: string, script: string, args: string[]): { value: Record<string, number> | null, why: string } {
  const env = { ...process.env }
  delete env.OPENBLAS_CORETYPE // slows a current numpy/OpenBLAS; see the env notes
  delete env.OPENBLAS_L2_SIZE
  try {
    const out = execFileSync(interpreter, [here(script), ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 })
    return { value: JSON.parse(out.trim().split('\n').pop() as string), why: '' }
  } catch (error) {
    return { value: null, why: String((error as { stderr?: string }).stderr ?? error).trim().split('\n').pop() ?? 'failed' }
  }
}

function randomMatrix (n: number, salt: number): Tensor {
  return new Tensor([n, n], Float32Array.from({ length: n * n }, (_, i) => uniform(salt, 0, i) - 0.5))
}

function gflops (n: number, run: () => Tensor, reps: number): number {
  run()
  const started = performance.now()
  for (let i = 0; i < reps; i++) run()
  return 2 * n ** 3 / ((performance.now() - started) / reps) / 1e6
}

/**
 * Matmul throughput per backend and thread count next to numpy, and a training step
 * of recipes/small.json next to the same model in PyTorch, measured in one run.
 */
export async function benchEngine (log: (line: string) => void): Promise<BenchResult> {
  const rows: Array<Array<string | number>> = []
  const figures: Record<string, unknown> = {}
  const notes: string[] = []

  log('engine: numpy matmul reference')
  const numpy = python('python3', 'reference_matmul.py', [])
  if (numpy.value === null) notes.push(`numpy column skipped: ${numpy.why}`)
  const wasm = [WasmBackend.create(1), WasmBackend.create(2)]
  const matmul: Record<string, Record<string, number>> = {}
  for (const n of [256, 512]) {
    const a = randomMatrix(n, 1)
    const b = randomMatrix(n, 2)
    log(`engine: matmul ${n}^3`)
    const reference = referenceMatmul(a, b)
    const same = wasm.every(w => Buffer.compare(w.matmul(a, b, false, false).bytes, reference.bytes) === 0)
    const results: Record<string, number> = {
      'reference, 1 thread': gflops(n, () => referenceMatmul(a, b), 1),
      'wasm SIMD, 1 thread': gflops(n, () => wasm[0].matmul(a, b, false, false), n === 256 ? 40 : 8),
      'wasm SIMD, 2 threads': gflops(n, () => wasm[1].matmul(a, b, false, false), n === 256 ? 40 : 8)
    }
    const np = numpy.value?.[String(n)]
    for (const [name, value] of Object.entries(results)) {
      rows.push([`matmul ${n}^3 GFLOP/s`, name, value.toFixed(1), np === undefined ? 'n/a' : (value / np).toFixed(2), name.startsWith('wasm') ? (same ? 'yes' : 'NO') : 'is the reference'])
    }
    if (np !== undefined) rows.push([`matmul ${n}^3 GFLOP/s`, 'numpy (OpenBLAS, FMA, all cores)', np.toFixed(1), '1.00', 'no (other order, FMA)'])
    matmul[String(n)] = { ...results, ...(np !== undefined ? { numpy: np } : {}) }
  }
  for (const w of wasm) await w.close()
  figures.matmulGflops = matmul

  log('engine: training steps of recipes/small.json (wasm, 2 threads)')
  const recipe = await readRecipe(`${repo}recipes/small.json`)
  const tokens = Int32Array.from(readFileSync(`${repo}packages/engine/fixtures/corpus.txt`))
  const backend = useBackend('wasm', 2)
  const state = initialState(recipe)
  const tables = tablesFor(recipe.model)
  const stepTimes: number[] = []
  const rootTimes: number[] = []
  for (let i = 0; i < 4; i++) {
    let started = performance.now()
    trainStep(recipe, tokens, state, tables)
    stepTimes.push(performance.now() - started)
    started = performance.now()
    stateRootOf(state)
    rootTimes.push(performance.now() - started)
  }
  const rootWasm2 = toHex(stateRootOf(state))
  await backend.close()
  const median = (xs: number[]): number => [...xs].slice(1).sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]
  const stepMs = median(stepTimes)
  const rootMs = median(rootTimes)
  const tokensPerStep = recipe.batchSize * recipe.model.context

  log('engine: the same 4 steps on 1 thread, for the state root')
  const one = useBackend('wasm', 1)
  const again = initialState(recipe)
  for (let i = 0; i < 4; i++) trainStep(recipe, tokens, again, tables)
  await one.close()
  const sameRoot = toHex(stateRootOf(again)) === rootWasm2

  log('engine: PyTorch reference step (Debian python3-torch, 2 threads)')
  const torch = python('/usr/bin/python3', 'torch_step.py', [`${repo}recipes/small.json`, '2'])
  if (torch.value === null) notes.push(`PyTorch column skipped: ${torch.why} (apt-get install python3-torch libopenblas0-pthread)`)
  const torchMs = torch.value?.msPerStep
  rows.push(['small.json step (ms)', 'wasm SIMD, 2 threads', stepMs.toFixed(0), torchMs === undefined ? 'n/a' : (torchMs / stepMs).toFixed(2), sameRoot ? 'same root on 1 and 2 threads' : 'ROOTS DIFFER'])
  if (torchMs !== undefined) rows.push(['small.json step (ms)', `PyTorch ${String(torch.value?.torch)}, 2 threads`, torchMs.toFixed(0), '1.00', 'no (float reassociation, FMA)'])
  rows.push(['small.json tokens/s', 'wasm SIMD, 2 threads', (tokensPerStep / stepMs * 1000).toFixed(0), torchMs === undefined ? 'n/a' : (torchMs / stepMs).toFixed(2), ''])
  rows.push(['state root (ms)', 'WebAssembly keccak, 1 thread', rootMs.toFixed(0), '', `${(rootMs / stepMs * 100).toFixed(1)}% of a step`])
  figures.small = { stepMs, tokensPerSecond: tokensPerStep / stepMs * 1000, stateRootMs: rootMs, stateRootShare: rootMs / stepMs, torchStepMs: torchMs ?? null, sameRootOn1And2Threads: sameRoot }
  notes.push('ratio column: value / numpy for matmul (higher is better); PyTorch step time / ours for steps (above 1: we are faster)')
  notes.push('goals of the engine issue: wasm >= 40 GFLOP/s on 2 threads at 512^3; a small.json step no slower than PyTorch; state root <= 5% of a step')
  return { part: 'engine', title: 'Engine: canonical kernels against numpy and PyTorch', columns: ['measure', 'backend', 'value', 'ratio', 'bit-identical'], rows, notes, figures }
}

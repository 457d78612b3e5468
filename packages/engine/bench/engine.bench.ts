import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { BenchResult } from '../../../bench/table.ts'
import { toHex, uniform } from '@commons/protocol'
import { initialState, readRecipe, stateRootOf, tablesFor, trainStep, openBackend, referenceContext, Tensor } from '../src/index.ts'
import { referenceMatmul } from '../src/core/ops.ts'
import { WasmBackend } from '../src/backends/wasmBackend.ts'
import { nativeKernels } from '../src/backends/native.ts'

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

/** Best of three rounds of `reps` products (this machine is shared; the best round is the kernel's speed). */
function gflops (n: number, run: () => Tensor, reps: number, reset: () => void = () => {}): number {
  run()
  let best = Infinity
  for (let round = 0; round < 3; round++) {
    const started = performance.now()
    for (let i = 0; i < reps; i++) {
      reset()
      run()
    }
    best = Math.min(best, (performance.now() - started) / reps)
  }
  return 2 * n ** 3 / best / 1e6
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
  const native = nativeKernels()?.avx512 === true ? nativeKernels() : null
  if (native === null) notes.push('native rows skipped: the native kernels are not built here or the CPU lacks AVX-512')
  const matmul: Record<string, Record<string, number>> = {}
  for (const n of [256, 512]) {
    const a = randomMatrix(n, 1)
    const b = randomMatrix(n, 2)
    log(`engine: matmul ${n}^3`)
    const reference = referenceMatmul(referenceContext(), a, b)
    const same = wasm.every(w => Buffer.compare(w.matmul(a, b, false, false).bytes, reference.bytes) === 0) &&
      (native === null || wasm.every(w => Buffer.compare(w.matmul(a, b, false, false, native).bytes, reference.bytes) === 0))
    const reps = n === 256 ? 40 : 8
    const results: Record<string, number> = {
      'reference, 1 thread': gflops(n, () => referenceMatmul(referenceContext(), a, b), 1),
      'wasm SIMD, 1 thread': gflops(n, () => wasm[0].matmul(a, b, false, false), reps, () => { wasm[0].startStep() }),
      'wasm SIMD, 2 threads': gflops(n, () => wasm[1].matmul(a, b, false, false), reps, () => { wasm[1].startStep() }),
      ...(native !== null
        ? {
            'native AVX-512, 1 thread': gflops(n, () => wasm[0].matmul(a, b, false, false, native), reps * 2, () => { wasm[0].startStep() }),
            'native AVX-512, 2 threads': gflops(n, () => wasm[1].matmul(a, b, false, false, native), reps * 2, () => { wasm[1].startStep() })
          }
        : {})
    }
    const np = numpy.value?.[String(n)]
    for (const [name, value] of Object.entries(results)) {
      rows.push([`matmul ${n}^3 GFLOP/s`, name, value.toFixed(1), np === undefined ? 'n/a' : (value / np).toFixed(2), name.startsWith('reference') ? 'is the reference' : (same ? 'yes' : 'NO')])
    }
    if (np !== undefined) rows.push([`matmul ${n}^3 GFLOP/s`, 'numpy (OpenBLAS, FMA, all cores)', np.toFixed(1), '1.00', 'no (other order, FMA)'])
    matmul[String(n)] = { ...results, ...(np !== undefined ? { numpy: np } : {}) }
  }
  for (const w of wasm) await w.close()
  figures.matmulGflops = matmul

  const stepBackend = native !== null ? 'native' : 'wasm'
  log(`engine: training steps of recipes/small.json (${stepBackend}, 2 threads)`)
  const recipe = await readRecipe(`${repo}recipes/small.json`)
  const tokens = Int32Array.from(readFileSync(`${repo}packages/engine/fixtures/corpus.txt`))
  const backend = openBackend(stepBackend, 2)
  const state = initialState(recipe)
  const tables = tablesFor(recipe.model)
  const stepTimes: number[] = []
  const rootTimes: number[] = []
  for (let i = 0; i < 6; i++) {
    let started = performance.now()
    trainStep(backend.ctx, recipe, tokens, state, tables)
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

  log('engine: the same 6 steps on the wasm backend, 1 thread, for the state root')
  const one = openBackend('wasm', 1)
  const again = initialState(recipe)
  for (let i = 0; i < 6; i++) trainStep(one.ctx, recipe, tokens, again, tables)
  await one.close()
  const sameRoot = toHex(stateRootOf(again)) === rootWasm2

  log('engine: 2 steps on the scalar reference backend (slow), for the state root')
  const reference = openBackend('reference', 1)
  const slow = initialState(recipe)
  for (let i = 0; i < 2; i++) trainStep(reference.ctx, recipe, tokens, slow, tables)
  await reference.close()
  const fast = openBackend(stepBackend, 2)
  const quick = initialState(recipe)
  for (let i = 0; i < 2; i++) trainStep(fast.ctx, recipe, tokens, quick, tables)
  await fast.close()
  const sameAsReference = toHex(stateRootOf(slow)) === toHex(stateRootOf(quick))

  log('engine: PyTorch reference step (Debian python3-torch, 2 threads)')
  const torch = python('/usr/bin/python3', 'torch_step.py', [`${repo}recipes/small.json`, '2'])
  if (torch.value === null) notes.push(`PyTorch column skipped: ${torch.why} (apt-get install python3-torch libopenblas0-pthread)`)
  const torchMs = torch.value?.msPerStep
  const stepName = `${stepBackend === 'native' ? 'native AVX-512 + wasm' : 'wasm SIMD'}, 2 threads`
  rows.push(['small.json step (ms)', stepName, stepMs.toFixed(0), torchMs === undefined ? 'n/a' : (torchMs / stepMs).toFixed(2), sameRoot ? 'same root as wasm on 1 thread' : 'ROOTS DIFFER'])
  if (torchMs !== undefined) rows.push(['small.json step (ms)', `PyTorch ${String(torch.value?.torch)}, 2 threads`, torchMs.toFixed(0), '1.00', 'no (float reassociation, FMA)'])
  rows.push(['small.json tokens/s', stepName, (tokensPerStep / stepMs * 1000).toFixed(0), torchMs === undefined ? 'n/a' : (torchMs / stepMs).toFixed(2), ''])
  rows.push(['small.json, 2 steps', `reference vs ${stepBackend}, 2 threads`, '', '', sameAsReference ? 'same state root' : 'ROOTS DIFFER'])
  rows.push(['state root (ms)', native !== null ? 'native keccak x8, 2 threads' : 'WebAssembly keccak, 1 thread', rootMs.toFixed(1), '', `${(rootMs / stepMs * 100).toFixed(1)}% of a step`])
  figures.small = { backend: stepBackend, stepMs, tokensPerSecond: tokensPerStep / stepMs * 1000, stateRootMs: rootMs, stateRootShare: rootMs / stepMs, torchStepMs: torchMs ?? null, sameRootAcrossBackends: sameRoot && sameAsReference }
  notes.push('ratio column: value / numpy for matmul (higher is better); PyTorch step time / ours for steps (above 1: we are faster)')
  notes.push('goals of the engine issue: wasm >= 40 GFLOP/s on 2 threads at 512^3; a small.json step no slower than PyTorch; state root <= 5% of a step')
  return { part: 'engine', title: 'Engine: canonical kernels against numpy and PyTorch', columns: ['measure', 'backend', 'value', 'ratio', 'bit-identical'], rows, notes, figures }
}

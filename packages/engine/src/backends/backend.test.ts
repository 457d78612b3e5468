import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { setTimeout } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { referenceAttention, referenceAttentionBackward } from '../core/attention.ts'
import { referenceContext, type EngineContext } from '../core/context.ts'
import { binary, referenceMatmul, unary } from '../core/ops.ts'
import { uniform } from '@commons/protocol'
import { readRecipe } from '../model/recipe.ts'
import { train } from '../train/run.ts'
import { Tensor } from '../core/tensor.ts'
import { openBackend } from './backend.ts'
import { WasmBackend } from './wasmBackend.ts'
import { CONTROL } from './wasmTasks.ts'
import { nativeKernels, type NativeKernels } from './native.ts'
import { referenceTensorRoot, tensorRoot } from '@commons/protocol'
import './nativeMerkle.ts'

const reference = referenceContext()
let draws = 0
const random = (): number => uniform(21, 0, draws++)
const randomTensor = (shape: number[]): Tensor =>
  new Tensor(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (random() - 0.5) * 4))
const randomTensorSeeded = (t: Tensor): Tensor => new Tensor(t.shape, Float32Array.from(t.f32, v => v * 3))
const sameBits = (a: Tensor, b: Tensor): boolean => Buffer.compare(a.bytes, b.bytes) === 0

/** Random products of every kind (sizes up to `max`), bit for bit against the reference. */
function checkMatmuls (product: (a: Tensor, b: Tensor, ta: boolean, tb: boolean) => Tensor, what: string, max: number): void {
  for (let trial = 0; trial < 30; trial++) {
    const [m, k, n] = [1 + Math.floor(random() * max), 1 + Math.floor(random() * max), 1 + Math.floor(random() * max)]
    const batch = 1 + Math.floor(random() * 3)
    const ta = random() < 0.5
    const tb = random() < 0.5
    const shared = random() < 0.4
    const a = randomTensor(ta ? [batch, k, m] : [batch, m, k])
    const b = randomTensor(shared ? (tb ? [n, k] : [k, n]) : (tb ? [batch, n, k] : [batch, k, n]))
    assert.ok(sameBits(product(a, b, ta, tb), referenceMatmul(reference, a, b, ta, tb)), `[${a.shape}]·[${b.shape}] ${ta} ${tb} on ${what}`)
  }
}

/** Attention forward and backward on random heads of the given shapes, against the reference. */
function checkAttention (backend: WasmBackend, native: NativeKernels | null, shapes: number[][]): void {
  for (const [heads, t, dh] of shapes) {
    const maskData = new Float32Array(t * t)
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) maskData[i * t + j] = -Infinity
    const mask = new Tensor([t, t], maskData)
    const [q, k, v, g] = [0, 1, 2, 3].map(() => randomTensor([heads, t, dh]))
    const scale = 0.17677669
    const expected = referenceAttention(reference, q, k, v, mask, scale)
    const got = backend.attention(q, k, v, mask, scale, native)
    assert.ok(got !== null)
    for (const name of ['p', 'e', 'z'] as const) assert.ok(sameBits(got.saved[name], expected.saved[name]), `${name} of [${heads}, ${t}, ${dh}] on ${backend.threads} threads`)
    assert.ok(sameBits(got.out, expected.out), `out of [${heads}, ${t}, ${dh}]`)
    const want = referenceAttentionBackward(reference, g, q, k, v, expected.saved, scale)
    const grads = backend.attentionBackward(g, q, k, v, expected.saved, scale, native)
    assert.ok(grads !== null)
    for (const name of ['dq', 'dk', 'dv'] as const) assert.ok(sameBits(grads[name], want[name]), `${name} of [${heads}, ${t}, ${dh}] on ${backend.threads} threads`)
  }
}

describe('wasm backend: bit-identical to the reference', () => {
  const backends = [WasmBackend.create(1), WasmBackend.create(2)]
  after(async () => { for (const b of backends) await b.close() })

  it('matmul on random shapes, transposes, batches and thread counts', () => {
    for (const backend of backends) checkMatmuls((a, b, ta, tb) => backend.matmul(a, b, ta, tb), `${backend.threads} threads`, 70)
  })

  it('exp on every kind of input, any length', () => {
    const specials = [0, -0, 1, -1, 88.72283935546875, 88.8, -103.97, -104, -87.5, -100, 1e-8, Infinity, -Infinity, NaN, 0.5, -0.5, 20.25]
    for (const n of [1, 3, 4, 5, 17, 1000, 40001]) {
      const values = Float32Array.from({ length: n }, (_, i) => i < specials.length ? specials[i] : (random() - 0.5) * 220)
      const input = new Tensor([n], values)
      const expected = unary(reference, 'exp', input)
      for (const backend of backends) {
        const got = backend.exp(input)
        for (let i = 0; i < n; i++) {
          const same = Number.isNaN(expected.f32[i]) ? Number.isNaN(got.f32[i]) : Object.is(got.f32[i], expected.f32[i])
          assert.ok(same, `exp(${values[i]}) = ${got.f32[i]}, reference ${expected.f32[i]} (${backend.threads} threads)`)
        }
      }
    }
  })

  it('attention forward and backward on random heads', () => {
    for (const backend of backends) checkAttention(backend, null, [[1, 4, 4], [3, 8, 12], [6, 32, 16], [4, 128, 32]])
  })

  it('large products split across threads', () => {
    const a = randomTensor([300, 256])
    const b = randomTensor([256, 200])
    const expected = referenceMatmul(reference, a, b)
    for (const backend of backends) assert.ok(sameBits(backend.matmul(a, b, false, false), expected))
  })
})

describe('wasm kernel threads', () => {
  it('run each task once, however often they are woken', async t => {
    // A kernel thread woken with no new task (V8 does this when an interrupt lands on a
    // waiting thread) used to run the last task again and count itself done twice: the
    // training thread then waited forever, or went on while the kernel thread still wrote.
    const control = new Int32Array(new SharedArrayBuffer(64 * 4))
    const RUNS = 20
    const tasks = new URL('./wasmTasks.ts', import.meta.url).href
    const worker = new Worker(`import { workerData } from 'node:worker_threads'
      import { serveTasks } from ${JSON.stringify(tasks)}
      serveTasks(workerData, () => { Atomics.add(workerData, ${RUNS}, 1) })`, { eval: true, workerData: control })
    const exited = once(worker, 'exit')
    t.after(() => worker.terminate())
    const doneBy = async (count: number): Promise<void> => {
      for (let tries = 0; Atomics.load(control, CONTROL.done) < count && tries < 500; tries++) await setTimeout(10)
    }
    for (let generation = 1; generation <= 3; generation++) {
      Atomics.store(control, CONTROL.done, 0)
      Atomics.store(control, CONTROL.generation, generation)
      Atomics.notify(control, CONTROL.generation)
      await doneBy(1)
      for (let i = 0; i < 100; i++) Atomics.notify(control, CONTROL.generation)
      await setTimeout(50)
      assert.equal(Atomics.load(control, CONTROL.done), 1, `generation ${generation}: done once`)
      assert.equal(Atomics.load(control, RUNS), generation, `generation ${generation}: the task ran once`)
    }
    Atomics.store(control, CONTROL.generation, -1)
    Atomics.notify(control, CONTROL.generation)
    assert.deepEqual(await exited, [0], 'a negative generation stops the thread')
  })
})

describe('wasm elementwise kernels: the same bits as the JavaScript loops', () => {
  it('binary and unary ops, scalars, odd lengths and special values', async () => {
    const specials = [0, -0, 1, -1, Infinity, -Infinity, NaN, 1e-40, -1e-40, 3.4e38, -3.4e38, 0.5, 2]
    const inputs = [1, 5, 13, 70001].map(n => {
      const x = Float32Array.from({ length: n }, (_, i) => i < 169 ? specials[i % 13] : (random() - 0.5) * 1e3)
      const y = Float32Array.from({ length: n }, (_, i) => i < 169 ? specials[Math.floor(i / 13) % 13] : (random() - 0.5) * 1e3)
      return [new Tensor([n], x), new Tensor([n], y)]
    })
    const grid = randomTensor([6, 8, 12])
    const tile = randomTensor([8, 12])
    const column = randomTensor([6, 8, 1])
    const odd = randomTensor([5, 6])
    const compute = (ctx: EngineContext): Tensor[] => [
      ...(['add', 'sub', 'mul', 'div', 'max', 'cmpge'] as const).flatMap(op => [binary(ctx, op, grid, tile), binary(ctx, op, grid, column), binary(ctx, op, randomTensorSeeded(odd), new Tensor([6], odd.f32.subarray(0, 6)))]),
      ...inputs.flatMap(([x, y]) => [
      ...(['add', 'sub', 'mul', 'div', 'max', 'cmpge'] as const).flatMap(op => [binary(ctx, op, x, y), binary(ctx, op, x, new Tensor([], Float32Array.of(y.f32[0])))]),
      ...(['neg', 'recip', 'sqrt'] as const).map(op => unary(ctx, op, x))
    ])]
    const expected = compute(reference)
    const wasm = openBackend('wasm', 2)
    try {
      const got = compute(wasm.ctx)
      got.forEach((t, i) => {
        for (let j = 0; j < t.size; j++) {
          const [a, b] = [t.f32[j], expected[i].f32[j]]
          assert.ok(Number.isNaN(b) ? Number.isNaN(a) : Object.is(a, b), `result ${i} element ${j}: ${a}, reference ${b}`)
        }
      })
    } finally {
      await wasm.close()
    }
  })
})

const native = nativeKernels()
const nativeSkip = native === null ? 'the native kernels are not built here' : !native.avx512 ? 'no AVX-512 on this CPU' : false

describe('native backend: bit-identical to the reference', { skip: nativeSkip }, () => {
  const backend = WasmBackend.create(2)
  after(async () => { await backend.close() })

  it('matmul on random shapes, transposes, batches and thread counts', () => {
    checkMatmuls((a, b, ta, tb) => backend.matmul(a, b, ta, tb, native), 'native', 90)
    const big = [randomTensor([300, 256]), randomTensor([256, 200])]
    assert.ok(sameBits(backend.matmul(big[0], big[1], false, false, native), referenceMatmul(reference, big[0], big[1])))
  })

  it('attention forward and backward on random heads', () => {
    checkAttention(backend, native, [[1, 16, 16], [3, 32, 16], [4, 128, 32]])
  })

  it('tensor roots equal the reference, NaN included', () => {
    for (const n of [0, 1, 7, 8, 9, 100, 4097, 70000]) {
      const t = new Tensor([n], Float32Array.from({ length: n }, (_, i) => i % 31 === 4 ? NaN : (random() - 0.5) * 100))
      assert.deepEqual(tensorRoot(t), referenceTensorRoot(t), `${n} elements`)
    }
    const ints = new Tensor([1000], Int32Array.from({ length: 1000 }, (_, i) => i * 7919 - 3000000))
    assert.deepEqual(tensorRoot(ints), referenceTensorRoot(ints))
  })
})

describe('training ends at the same state root on every backend and thread count', () => {
  const repo = fileURLToPath(new URL('../../../../', import.meta.url))
  it('reference, wasm on 1 thread, wasm on 2 threads, native', async () => {
    const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
    const recipe = { ...tiny, steps: 8, checkpointInterval: 4 }
    const tokens = Int32Array.from(await readFile(join(repo, 'packages/engine/fixtures/corpus.txt')))
    const dir = await mkdtemp(join(tmpdir(), 'commons-backends-'))
    const roots: string[] = []
    try {
      const runs: Array<[string, number]> = [['reference', 1], ['wasm', 1], ['wasm', 2]]
      if (nativeSkip === false) runs.push(['native', 2])
      for (const [name, threads] of runs) {
        const backend = openBackend(name, threads)
        try {
          const result = await train(backend.ctx, { recipe, tokens, data: { source: 'corpus' }, out: join(dir, `${name}-${threads}`) })
          roots.push(`${result.finalRoot} ${result.transcriptRoot}`)
        } finally {
          await backend.close()
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    assert.equal(new Set(roots).size, 1, roots.join('\n'))
  })
})

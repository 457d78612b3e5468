import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { KernelsMissingError } from '@commons/protocol'
import { KERNEL_CODE, type AttentionGrads, type AttentionSaved, type Broadcast } from '../core/context.ts'
import { matmulShape } from '../core/ops.ts'
import type { NativeKernels } from './native.ts'
import { Tensor } from '../core/tensor.ts'
import { CONTROL, FLOAT_ARG, TASK, runTask, type KernelExports } from './wasmTasks.ts'

const PATH = fileURLToPath(new URL('../../build/kernels.wasm', import.meta.url))
const BASE = 1 << 20 // below: the kernels' own stack and data
const PAGE = 65536
/** 2 GiB: a training step of recipes/small.json allocates a few hundred MiB. */
const MAX_PAGES = 32768
/** Products smaller than this many multiply-adds run on the calling thread alone. */
const PARALLEL_MIN = 1 << 16

/**
 * The WebAssembly SIMD backend: kernels on a shared memory, run by the calling thread
 * and `threads − 1` workers, each on its own rows. Inputs are copied in and the output
 * out for every op, so tensors stay ordinary typed arrays.
 */
export class WasmBackend {
  readonly threads: number
  private readonly memory: WebAssembly.Memory
  private readonly kernels: KernelExports
  private readonly control: Int32Array
  private readonly workers: Worker[] = []
  private generation = 0
  /** Every SharedArrayBuffer object this memory has shown (one per size after a grow). */
  private readonly buffers = new Set<ArrayBufferLike>()
  /** The arena: op outputs from BASE up to `top`, freed all at once by startStep. */
  private top = BASE

  private constructor (threads: number, module: WebAssembly.Module) {
    this.threads = threads
    this.memory = new WebAssembly.Memory({ initial: 32, maximum: MAX_PAGES, shared: true })
    this.buffers.add(this.memory.buffer)
    this.kernels = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as KernelExports
    this.control = new Int32Array(new SharedArrayBuffer(64 * 4))
    for (let index = 1; index < threads; index++) {
      const worker = new Worker(new URL('./wasmWorker.ts', import.meta.url), {
        workerData: { module, memory: this.memory, control: this.control, index, threads }
      })
      worker.unref()
      this.workers.push(worker)
    }
  }

  static create (threads = 1): WasmBackend {
    let bytes: Buffer
    try {
      bytes = readFileSync(PATH)
    } catch (cause) {
      throw new KernelsMissingError(`the WebAssembly kernels are not built (${PATH})`, { hint: 'run npm run build', cause })
    }
    return new WasmBackend(Math.max(1, Math.floor(threads)), new WebAssembly.Module(new Uint8Array(bytes)))
  }

  /** Stops the worker threads. */
  async close (): Promise<void> {
    Atomics.store(this.control, CONTROL.generation, -1)
    Atomics.notify(this.control, CONTROL.generation)
    await Promise.all(this.workers.map(w => w.terminate()))
  }

  /** Grows the memory so that it reaches `end` bytes. */
  private ensure (end: number): void {
    const have = this.memory.buffer.byteLength
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE)
      if (have / PAGE + pages > MAX_PAGES) throw new RangeError(`the wasm backend needs more than ${MAX_PAGES * PAGE / 2 ** 30} GiB for one step`)
      this.memory.grow(pages)
      this.buffers.add(this.memory.buffer)
    }
  }

  /**
   * n floats in the arena (16-byte aligned): the allocator of every op output. Zero-filled
   * unless `overwritten` (the caller writes every element; the arena reuses memory).
   */
  alloc (n: number, overwritten = false): Float32Array {
    const at = this.top
    this.top += Math.ceil(n / 4) * 16
    this.ensure(this.top)
    const view = new Float32Array(this.memory.buffer, at, n)
    if (!overwritten) view.fill(0)
    return view
  }

  /** Frees the whole arena: called at the start of every training step. */
  startStep (): void {
    this.top = BASE
  }

  /** Address of a tensor's data: in place if it lives in the arena, else copied in. */
  private address (data: Float32Array): number {
    if (this.buffers.has(data.buffer)) return data.byteOffset
    const copy = this.alloc(data.length, true)
    copy.set(data)
    return copy.byteOffset
  }

  /** Runs the task in the control block on every thread and waits for all of them. */
  private run (work: number): void {
    const threads = work < PARALLEL_MIN ? 1 : this.threads
    if (threads === 1) {
      runTask(this.kernels, this.control, 0, 1)
      return
    }
    Atomics.store(this.control, CONTROL.done, 0)
    Atomics.store(this.control, CONTROL.generation, ++this.generation)
    Atomics.notify(this.control, CONTROL.generation)
    runTask(this.kernels, this.control, 0, threads)
    for (;;) {
      const done = Atomics.load(this.control, CONTROL.done)
      if (done === threads - 1) break
      Atomics.wait(this.control, CONTROL.done, done)
    }
  }

  /**
   * out = x op y elementwise, as ops.binary's loops, bit for bit. y is the whole array
   * (`how` 'full'), one element ('scalar'), repeated whole ('tile') or constant along the
   * last axis of length `period` ('column'). Returns false (the caller loops in
   * JavaScript) when `out` is not an arena array or a period is not a multiple of 4.
   */
  binary (op: number, out: Float32Array, x: Float32Array, y: Float32Array, how: Broadcast = 'full', period = 0): boolean {
    if (!this.buffers.has(out.buffer)) return false
    if ((how === 'tile' || how === 'column') && period % 4 !== 0) return false
    const padded = Math.ceil(out.length / 4) * 4
    const mode = KERNEL_CODE.broadcast[how]
    this.control[CONTROL.task] = TASK.binary
    this.control.set([op, this.address(x), this.address(y), mode, period, out.byteOffset, padded], CONTROL.args)
    this.run(out.length)
    return true
  }

  /** out = op x for a unary op with a kernel (KERNEL_CODE.unary); false when out is not an arena array. */
  unary (op: number, out: Float32Array, x: Float32Array): boolean {
    if (!this.buffers.has(out.buffer)) return false
    const padded = Math.ceil(out.length / 4) * 4
    this.control[CONTROL.task] = TASK.unary
    this.control.set([op, this.address(x), out.byteOffset, padded], CONTROL.args)
    this.run(out.length)
    return true
  }

  /** expf of every element, as ops.unary('exp'), bit for bit (any NaN stays a NaN). */
  exp (a: Tensor): Tensor {
    const n = a.size
    const padded = Math.ceil(n / 4) * 4
    const input = this.address(a.f32)
    const out = this.alloc(padded, true)
    this.control[CONTROL.task] = TASK.exp
    this.control.set([input, out.byteOffset, padded], CONTROL.args)
    this.run(n * 16)
    return new Tensor(a.shape, out.subarray(0, n))
  }

  private attentionTask (task: number, args: number[], scale: number, heads: number, scratchPerThread: number): void {
    const scratch = this.alloc(scratchPerThread / 4 * this.threads)
    this.control[CONTROL.task] = task
    this.control.fill(0, CONTROL.args, CONTROL.args + 16)
    this.control.set(args, CONTROL.args)
    this.control.set([heads, scratch.byteOffset, scratchPerThread], CONTROL.args + 12)
    new Float32Array(this.control.buffer, FLOAT_ARG * 4, 1)[0] = scale
    this.run(heads * 1_000_000)
  }

  /** referenceAttention (attention.ts), bit for bit; null when t or dh is not a multiple of 4. */
  attention (q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scale: number, native: NativeKernels | null = null): { out: Tensor, saved: AttentionSaved } | null {
    const t = q.shape[q.shape.length - 2]
    const dh = q.shape[q.shape.length - 1]
    if (t % 4 !== 0 || dh % 4 !== 0) return null
    const heads = q.size / (t * dh)
    const out = this.alloc(q.size, true)
    const p = this.alloc(heads * t * t, true)
    const e = this.alloc(heads * t * t, true)
    const z = this.alloc(heads * t, true)
    const lead = q.shape.slice(0, -2)
    const result = { out: new Tensor(q.shape, out), saved: { p: new Tensor([...lead, t, t], p), e: new Tensor([...lead, t, t], e), z: new Tensor([...lead, t, 1], z) } }
    if (native?.attention(q.f32, k.f32, v.f32, mask.f32, out, p, e, z, heads, t, dh, scale, this.threads) === true) return result
    const [qAt, kAt, vAt, maskAt] = [q, k, v, mask].map(x => this.address(x.f32))
    this.attentionTask(TASK.attention, [qAt, kAt, vAt, maskAt, out.byteOffset, p.byteOffset, e.byteOffset, z.byteOffset, 0, 0, t, dh], scale, heads, t * dh * 4)
    return result
  }

  /** referenceAttentionBackward (attention.ts), bit for bit; null when t or dh is not a multiple of 4. */
  attentionBackward (g: Tensor, q: Tensor, k: Tensor, v: Tensor, saved: AttentionSaved, scale: number, native: NativeKernels | null = null): AttentionGrads | null {
    const t = q.shape[q.shape.length - 2]
    const dh = q.shape[q.shape.length - 1]
    if (t % 4 !== 0 || dh % 4 !== 0) return null
    const heads = q.size / (t * dh)
    const [dq, dk, dv] = [q.size, k.size, v.size].map(n => this.alloc(n, true))
    const result = { dq: new Tensor(q.shape, dq), dk: new Tensor(k.shape, dk), dv: new Tensor(v.shape, dv) }
    if (native?.attentionBackward(g.f32, q.f32, k.f32, v.f32, saved.p.f32, saved.e.f32, saved.z.f32, dq, dk, dv, heads, t, dh, scale, this.threads) === true) return result
    const at = [g, q, k, v, saved.p, saved.e, saved.z].map(x => this.address(x.f32))
    this.attentionTask(TASK.attentionBackward, [...at, dq.byteOffset, dk.byteOffset, dv.byteOffset, t, dh], scale, heads, (t * dh + t * t) * 4)
    return result
  }

  /**
   * The same product as ops.matmul, bit for bit; with `native`, the product itself runs
   * in the native AVX-512 kernel (same program, sixteen lanes).
   */
  matmul (a: Tensor, b: Tensor, transA: boolean, transB: boolean, native: NativeKernels | null = null): Tensor {
    const { batch, m, k, n, bBatched } = matmulShape(a.shape, b.shape, transA, transB)
    const bCount = bBatched ? batch : 1
    const aAt = this.address(a.f32)
    let bAt = this.address(b.f32)
    if (transB) {
      const bt = this.alloc(b.size, true)
      this.kernels.transpose(bAt, bt.byteOffset, n, k, 0, bCount)
      bAt = bt.byteOffset
    }
    const out = this.alloc(batch * m * n, true)
    const shape = [...a.shape.slice(0, -2), m, n]
    if (native !== null) {
      const view = (at: number, count: number): Float32Array => new Float32Array(this.memory.buffer, at, count)
      const threads = batch * m * n * k < PARALLEL_MIN ? 1 : this.threads
      if (native.matmul(view(aAt, a.size), view(bAt, b.size), out, m, k, n, transA ? 1 : k, transA ? m : 1, m * k, bBatched ? k * n : 0, batch * m, threads)) {
        return new Tensor(shape, out)
      }
    }
    const args = [aAt, bAt, out.byteOffset, m, k, n, transA ? 1 : k, transA ? m : 1, m * k, bBatched ? k * n : 0, batch * m]
    this.control[CONTROL.task] = TASK.matmul
    this.control.set(args, CONTROL.args)
    this.run(batch * m * n * k)
    return new Tensor(shape, out)
  }
}

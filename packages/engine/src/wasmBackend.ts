import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { KernelsMissingError } from './merkleWasm.ts'
import { matmulShape, type AttentionSaved } from './ops.ts'
import { Tensor } from './tensor.ts'
import { CONTROL, FLOAT_ARG, TASK, runTask, type KernelExports } from './wasmTasks.ts'

const PATH = fileURLToPath(new URL('../build/kernels.wasm', import.meta.url))
const BASE = 1 << 20 // below: the kernels' own stack and data
const PAGE = 65536
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

  private constructor (threads: number, module: WebAssembly.Module) {
    this.threads = threads
    this.memory = new WebAssembly.Memory({ initial: 32, maximum: 16384, shared: true })
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

  private reserve (bytes: number): void {
    const have = this.memory.buffer.byteLength
    if (BASE + bytes > have) this.memory.grow(Math.ceil((BASE + bytes - have) / PAGE))
  }

  private put (data: Float32Array, at: number): void {
    new Float32Array(this.memory.buffer, at, data.length).set(data)
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

  /** expf of every element, as ops.unary('exp'), bit for bit (any NaN stays a NaN). */
  exp (a: Tensor): Tensor {
    const n = a.size
    const padded = Math.ceil(n / 4) * 4
    const inAt = BASE
    const outAt = inAt + padded * 4
    this.reserve(outAt + padded * 4 - BASE)
    this.put(a.f32, inAt)
    this.control[CONTROL.task] = TASK.exp
    this.control.set([inAt, outAt, padded], CONTROL.args)
    this.run(n * 16)
    const out = new Float32Array(n)
    out.set(new Float32Array(this.memory.buffer, outAt, n))
    return new Tensor(a.shape, out)
  }

  /** Copies tensors in one after the other from BASE; returns their addresses and the end. */
  private layout (sizes: number[]): { at: number[], end: number } {
    const at: number[] = []
    let next = BASE
    for (const n of sizes) {
      at.push(next)
      next += Math.ceil(n / 4) * 16
    }
    this.reserve(next - BASE)
    return { at, end: next }
  }

  private take (at: number, shape: readonly number[]): Tensor {
    const n = shape.reduce((x, y) => x * y, 1)
    const out = new Float32Array(n)
    out.set(new Float32Array(this.memory.buffer, at, n))
    return new Tensor(shape, out)
  }

  private attentionTask (task: number, args: number[], scale: number, heads: number, scratchPerThread: number, scratchAt: number): void {
    this.control[CONTROL.task] = task
    this.control.fill(0, CONTROL.args, CONTROL.args + 16)
    this.control.set(args, CONTROL.args)
    this.control.set([heads, scratchAt, scratchPerThread], CONTROL.args + 12)
    new Float32Array(this.control.buffer, FLOAT_ARG * 4, 1)[0] = scale
    this.run(heads * 1_000_000)
  }

  /** ops.referenceAttention, bit for bit; null when t or dh is not a multiple of 4. */
  attention (q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scale: number): { out: Tensor, saved: AttentionSaved } | null {
    const t = q.shape[q.shape.length - 2]
    const dh = q.shape[q.shape.length - 1]
    if (t % 4 !== 0 || dh % 4 !== 0) return null
    const heads = q.size / (t * dh)
    const scratchPerThread = t * dh * 4
    const { at } = this.layout([q.size, k.size, v.size, t * t, q.size, heads * t * t, heads * t * t, heads * t, scratchPerThread / 4 * this.threads])
    const [qAt, kAt, vAt, maskAt, outAt, pAt, eAt, zAt, scratchAt] = at
    this.put(q.f32, qAt); this.put(k.f32, kAt); this.put(v.f32, vAt); this.put(mask.f32, maskAt)
    this.attentionTask(TASK.attention, [qAt, kAt, vAt, maskAt, outAt, pAt, eAt, zAt, 0, 0, t, dh], scale, heads, scratchPerThread, scratchAt)
    const lead = q.shape.slice(0, -2)
    return {
      out: this.take(outAt, q.shape),
      saved: { p: this.take(pAt, [...lead, t, t]), e: this.take(eAt, [...lead, t, t]), z: this.take(zAt, [...lead, t, 1]) }
    }
  }

  /** ops.referenceAttentionBackward, bit for bit; null when t or dh is not a multiple of 4. */
  attentionBackward (g: Tensor, q: Tensor, k: Tensor, v: Tensor, saved: AttentionSaved, scale: number): { dq: Tensor, dk: Tensor, dv: Tensor } | null {
    const t = q.shape[q.shape.length - 2]
    const dh = q.shape[q.shape.length - 1]
    if (t % 4 !== 0 || dh % 4 !== 0) return null
    const heads = q.size / (t * dh)
    const scratchPerThread = (t * dh + t * t) * 4
    const { at } = this.layout([g.size, q.size, k.size, v.size, saved.p.size, saved.e.size, saved.z.size, q.size, k.size, v.size, scratchPerThread / 4 * this.threads])
    const [gAt, qAt, kAt, vAt, pAt, eAt, zAt, dqAt, dkAt, dvAt, scratchAt] = at
    this.put(g.f32, gAt); this.put(q.f32, qAt); this.put(k.f32, kAt); this.put(v.f32, vAt)
    this.put(saved.p.f32, pAt); this.put(saved.e.f32, eAt); this.put(saved.z.f32, zAt)
    this.attentionTask(TASK.attentionBackward, [gAt, qAt, kAt, vAt, pAt, eAt, zAt, dqAt, dkAt, dvAt, t, dh], scale, heads, scratchPerThread, scratchAt)
    return { dq: this.take(dqAt, q.shape), dk: this.take(dkAt, k.shape), dv: this.take(dvAt, v.shape) }
  }

  /** The same product as ops.matmul, bit for bit. */
  matmul (a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
    const { batch, m, k, n, bBatched } = matmulShape(a.shape, b.shape, transA, transB)
    const bCount = bBatched ? batch : 1
    const aAt = BASE
    const bAt = aAt + a.size * 4
    const btAt = bAt + b.size * 4
    const cAt = btAt + (transB ? b.size * 4 : 0)
    this.reserve(cAt + batch * m * n * 4 - BASE)
    this.put(a.f32, aAt)
    this.put(b.f32, bAt)
    let bPtr = bAt
    if (transB) {
      this.kernels.transpose(bAt, btAt, n, k, 0, bCount)
      bPtr = btAt
    }
    const args = [aAt, bPtr, cAt, m, k, n, transA ? 1 : k, transA ? m : 1, m * k, bBatched ? k * n : 0, batch * m]
    this.control[CONTROL.task] = TASK.matmul
    this.control.set(args, CONTROL.args)
    this.run(batch * m * n * k)
    const out = new Float32Array(batch * m * n)
    out.set(new Float32Array(this.memory.buffer, cAt, out.length))
    return new Tensor([...a.shape.slice(0, -2), m, n], out)
  }
}

/** The kernels module's exports. */
export interface KernelExports {
  matmul(a: number, b: number, c: number, m: number, k: number, n: number, aRow: number, aCol: number, aBatch: number, bBatch: number, rowStart: number, rowEnd: number): void
  transpose(input: number, out: number, rows: number, cols: number, batchStart: number, batchEnd: number): void
  exp(input: number, out: number, start: number, end: number): void
  binary(op: number, x: number, y: number, mode: number, period: number, out: number, start: number, end: number): void
  unary(op: number, x: number, out: number, start: number, end: number): void
  attentionForward(q: number, k: number, v: number, mask: number, out: number, p: number, e: number, z: number, t: number, dh: number, scale: number, headStart: number, headEnd: number, scratch: number): void
  attentionBackward(g: number, q: number, k: number, v: number, p: number, e: number, z: number, dq: number, dk: number, dv: number, t: number, dh: number, scale: number, headStart: number, headEnd: number, scratch: number): void
}

/** Control block layout (Int32Array over a SharedArrayBuffer). */
export const CONTROL = { generation: 0, done: 1, task: 2, args: 3 } as const
export const TASK = { matmul: 1, exp: 2, attention: 3, attentionBackward: 4, binary: 5, unary: 6 } as const

/** The control slot that carries a binary32 argument (read through a Float32Array). */
export const FLOAT_ARG = 40

/** Rows [start, end) of `rows` for thread `index` of `threads`, split on multiples of 4. */
export function share (rows: number, index: number, threads: number): [number, number] {
  const quads = Math.ceil(rows / 4)
  const start = Math.min(rows, Math.floor(quads * index / threads) * 4)
  const end = Math.min(rows, Math.floor(quads * (index + 1) / threads) * 4)
  return [start, end]
}

/** Items [start, end) of `count` for thread `index` of `threads`. */
export function shareEven (count: number, index: number, threads: number): [number, number] {
  return [Math.floor(count * index / threads), Math.floor(count * (index + 1) / threads)]
}

/** Runs this thread's share of the task described in the control block. */
export function runTask (k: KernelExports, control: Int32Array, index: number, threads: number): void {
  const a = (i: number): number => control[CONTROL.args + i]
  if (control[CONTROL.task] === TASK.matmul) {
    const rows = a(10)
    const [start, end] = share(rows, index, threads)
    if (start < end) k.matmul(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), start, end)
  } else if (control[CONTROL.task] === TASK.exp) {
    const [start, end] = share(a(2), index, threads)
    if (start < end) k.exp(a(0), a(1), start, end)
  } else if (control[CONTROL.task] === TASK.binary) {
    const [start, end] = share(a(6), index, threads)
    if (start < end) k.binary(a(0), a(1), a(2), a(3), a(4), a(5), start, end)
  } else if (control[CONTROL.task] === TASK.unary) {
    const [start, end] = share(a(3), index, threads)
    if (start < end) k.unary(a(0), a(1), a(2), start, end)
  } else if (control[CONTROL.task] === TASK.attention || control[CONTROL.task] === TASK.attentionBackward) {
    const scale = new Float32Array(control.buffer, control.byteOffset + FLOAT_ARG * 4, 1)[0]
    const heads = a(12)
    const [start, end] = shareEven(heads, index, threads)
    const scratch = a(13) + index * a(14)
    if (start >= end) return
    if (control[CONTROL.task] === TASK.attention) k.attentionForward(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(10), a(11), scale, start, end, scratch)
    else k.attentionBackward(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10), a(11), scale, start, end, scratch)
  }
}

/**
 * A kernel thread's loop: runs `work` once for each new task generation, then counts
 * itself done, until the generation is negative. Atomics.wait may return with no new
 * generation (V8 does when an interrupt lands on a waiting thread); such a wake-up runs
 * nothing, or the thread would run a task twice and count itself done twice, so the
 * calling thread either waits forever or goes on while this one still writes.
 */
export function serveTasks (control: Int32Array, work: () => void): void {
  let last = 0
  for (;;) {
    Atomics.wait(control, CONTROL.generation, last)
    const generation = Atomics.load(control, CONTROL.generation)
    if (generation === last) continue
    if (generation < 0) return
    last = generation
    work()
    Atomics.add(control, CONTROL.done, 1)
    Atomics.notify(control, CONTROL.done)
  }
}

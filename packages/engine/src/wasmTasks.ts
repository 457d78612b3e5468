/** The kernels module's exports. */
export interface KernelExports {
  matmul(a: number, b: number, c: number, m: number, k: number, n: number, aRow: number, aCol: number, aBatch: number, bBatch: number, rowStart: number, rowEnd: number): void
  transpose(input: number, out: number, rows: number, cols: number, batchStart: number, batchEnd: number): void
  exp(input: number, out: number, start: number, end: number): void
}

/** Control block layout (Int32Array over a SharedArrayBuffer). */
export const CONTROL = { generation: 0, done: 1, task: 2, args: 3 } as const
export const TASK = { matmul: 1, exp: 2 } as const

/** Rows [start, end) of `rows` for thread `index` of `threads`, split on multiples of 4. */
export function share (rows: number, index: number, threads: number): [number, number] {
  const quads = Math.ceil(rows / 4)
  const start = Math.min(rows, Math.floor(quads * index / threads) * 4)
  const end = Math.min(rows, Math.floor(quads * (index + 1) / threads) * 4)
  return [start, end]
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
  }
}

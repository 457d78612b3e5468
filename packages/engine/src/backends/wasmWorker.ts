import { workerData } from 'node:worker_threads'
import { runTask, type KernelExports } from './wasmTasks.ts'

/**
 * A kernel thread: instantiates the kernels on the shared memory, then waits for
 * each new task generation, runs its share of the rows and counts itself done.
 */
const { module, memory, control, index, threads } = workerData as {
  module: WebAssembly.Module
  memory: WebAssembly.Memory
  control: Int32Array
  index: number
  threads: number
}
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports
let seen = 0
for (;;) {
  Atomics.wait(control, 0, seen)
  seen = Atomics.load(control, 0)
  if (seen < 0) break
  runTask(kernels, control, index, threads)
  Atomics.add(control, 1, 1)
  Atomics.notify(control, 1)
}

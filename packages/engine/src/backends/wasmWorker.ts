import { workerData } from 'node:worker_threads'
import { runTask, serveTasks, type KernelExports } from './wasmTasks.ts'

/**
 * A kernel thread: instantiates the kernels on the shared memory, then runs its share
 * of the rows of each task (serveTasks).
 */
const { module, memory, control, index, threads } = workerData as {
  module: WebAssembly.Module
  memory: WebAssembly.Memory
  control: Int32Array
  index: number
  threads: number
}
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports
serveTasks(control, () => { runTask(kernels, control, index, threads) })

#!/usr/bin/env node
import * as nodeModule from 'node:module'
import { ensureBuilt } from './ensureBuilt.ts'

// Node keeps the modules it compiled (our TypeScript with its types stripped, and the
// bytecode) in a cache under the OS temp dir, checked against each file's content: a
// command starts with about half the CPU it needs to compile everything afresh.
nodeModule.enableCompileCache?.()

/**
 * The `commons` entry point. It checks that the build outputs the CLI loads exist
 * (generated contract ABIs, WebAssembly kernels: made by `npm run build`, not committed)
 * and builds them once if a clone was installed without it, before loading the program.
 */
export async function main (argv: string[]): Promise<number> {
  const built = ensureBuilt(argv.includes('--json'))
  if (built !== 0) return built
  const { runProgram } = await import('./program.ts')
  return runProgram(argv)
}

if (import.meta.main) process.exitCode = await main(process.argv)

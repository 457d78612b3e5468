#!/usr/bin/env node
// forge cannot download a compiler here, so foundry.toml points `solc` at this
// script: it answers the two calls forge makes (`--version` and `--standard-json`)
// with solc-js from npm. Plain JavaScript so it runs on any Node forge finds.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const require = createRequire(import.meta.url)
const solc = require('solc')
const args = process.argv.slice(2)

if (args.includes('--version')) {
  // forge reads the semver from the "Version:" line.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`)
} else if (args.includes('--standard-json')) {
  const input = readFileSync(0, 'utf8')
  // forge inlines every source; an import it did not inline is read from disk.
  const findImports = (path) => {
    try {
      return { contents: readFileSync(path, 'utf8') }
    } catch {
      return { error: `file not found: ${path}` }
    }
  }
  process.stdout.write(solc.compile(input, { import: findImports }))
} else {
  process.stderr.write('solc shim: only --version and --standard-json are supported\n')
  process.exit(1)
}

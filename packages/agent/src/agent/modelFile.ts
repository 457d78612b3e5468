import { open } from 'node:fs/promises'
import { ModelFileError } from '../errors.ts'

/**
 * Checks that `path` is a GGUF file before llama.cpp reads it: llama.cpp's own failure on
 * a wrong file is a bare "failed to load model".
 */
export async function checkGguf (path: string): Promise<void> {
  let magic: Buffer
  try {
    const file = await open(path, 'r')
    try {
      magic = Buffer.alloc(4)
      await file.read(magic, 0, 4, 0)
    } finally {
      await file.close()
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ModelFileError(`cannot read the model file ${path} (${code ?? String(error)})`, {
      hint: 'pass --model with the path of a GGUF file, e.g. one written by commons model export', details: { path, code }, cause: error
    })
  }
  if (magic.toString('latin1') !== 'GGUF') {
    throw new ModelFileError(`${path} is not a GGUF file (it starts with ${JSON.stringify(magic.toString('latin1'))}, not "GGUF")`, {
      hint: 'export a Commons model with commons model export RUN --format gguf, or pass any GGUF model', details: { path }
    })
  }
}

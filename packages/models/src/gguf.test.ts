import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gguf } from '@huggingface/gguf'
import { encodeGguf, GGML_TYPE, GgufError } from './gguf.ts'
import { f16Bits } from './half.ts'

let dir: string
before(async () => { dir = await mkdtemp(join(tmpdir(), 'commons-gguf-')) })
after(async () => { await rm(dir, { recursive: true, force: true }) })

describe('GGUF writer', () => {
  it('writes a file an independent reader (@huggingface/gguf) parses back: keys, tensor infos, data', async () => {
    const a = Float32Array.from([1, -2, 3.5, 0.25, 5, 6])
    const b = Float32Array.from({ length: 9 }, (_, i) => i / 3)
    const path = join(dir, 'small.gguf')
    await writeFile(path, Buffer.concat(encodeGguf([
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['llama.block_count', { type: 'u32', value: 7 }],
      ['llama.rope.freq_base', { type: 'f32', value: 10000 }],
      ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
      ['tokenizer.ggml.tokens', { type: 'strings', value: ['a', 'bc', 'Ġ'] }],
      ['tokenizer.ggml.token_type', { type: 'i32s', value: [1, 1, 3] }]
    ], [
      { name: 'a', dims: [3, 2], type: GGML_TYPE.F32, data: new Uint8Array(a.buffer) },
      { name: 'b', dims: [9], type: GGML_TYPE.F32, data: new Uint8Array(b.buffer) }
    ])))
    const parsed = await gguf(path, { allowLocalFile: true })
    const metadata = parsed.metadata as unknown as Record<string, unknown>
    assert.equal(metadata.version, 3)
    assert.equal(metadata['general.architecture'], 'llama')
    assert.equal(metadata['llama.block_count'], 7)
    assert.equal(metadata['llama.rope.freq_base'], 10000)
    assert.equal(metadata['tokenizer.ggml.add_bos_token'], false)
    assert.deepEqual(metadata['tokenizer.ggml.tokens'], ['a', 'bc', 'Ġ'])
    assert.deepEqual(metadata['tokenizer.ggml.token_type'], [1, 1, 3])
    assert.deepEqual(parsed.tensorInfos.map(t => [t.name, t.shape.map(Number), t.dtype, Number(t.offset)]), [['a', [3, 2], 0, 0], ['b', [9], 0, 32]])
    const bytes = await readFile(path)
    const start = parsed.tensorDataOffset
    assert.equal(Number(start) % 32, 0)
    assert.deepEqual(new Float32Array(bytes.buffer.slice(bytes.byteOffset + Number(start), bytes.byteOffset + Number(start) + 24)), a)
    assert.deepEqual(new Float32Array(bytes.buffer.slice(bytes.byteOffset + Number(start) + 32, bytes.byteOffset + Number(start) + 32 + 36)), b)
  })

  it('refuses a tensor whose bytes do not match its dims, and a key given twice', () => {
    assert.throws(() => encodeGguf([], [{ name: 'x', dims: [3], type: GGML_TYPE.F32, data: new Uint8Array(8) }]), GgufError)
    assert.throws(() => encodeGguf([['k', { type: 'u32', value: 1 }], ['k', { type: 'u32', value: 2 }]], []), GgufError)
  })
})

describe('binary16 conversion', () => {
  it('rounds like Float16Array of the JavaScript engine (the reference, in the same run) on specials and 200,000 values', () => {
    const specials = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e9, -1e9, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 2 ** -14, 2 ** -14 * 0.999, 0.1, 1 / 3, Infinity, -Infinity, NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11]
    const view = new DataView(new ArrayBuffer(4))
    const random = Array.from({ length: 200_000 }, (_, i) => {
      view.setUint32(0, Math.imul(i + 1, 2654435761) >>> 0)
      return view.getFloat32(0)
    })
    const reference = (x: number): number => {
      const h = new Float16Array([x])
      return new Uint16Array(h.buffer)[0]
    }
    for (const x of [...specials, ...random]) {
      const want = reference(x)
      const got = f16Bits(x)
      if (Number.isNaN(x)) assert.ok((got & 0x7c00) === 0x7c00 && (got & 0x3ff) !== 0, `NaN stays NaN (${got.toString(16)})`)
      else assert.equal(got, want, `f16Bits(${x}) = ${got.toString(16)}, want ${want.toString(16)}`)
    }
  })
})

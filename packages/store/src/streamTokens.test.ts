import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tokensRootOf } from '@commons/engine'
import { BpeTokenizer, tokenizerFile, trainBpe } from '@commons/tokenizer'
import { commitVersion, generateRows, initDataset, openStore, openTokenStream, putRaw, rowsToBytes, tokenizeVersion, tokenStreamPath } from './index.ts'
import { streamTokens } from './streamTokens.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-stream-tokens-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

test('streamed tokens are the tokens tokenizeVersion gives, written as little-endian i32, with the same root', async () => {
  const data = join(root, 'data')
  await mkdir(join(data, 'nested'), { recursive: true })
  await writeFile(join(data, 'corpus.jsonl'), rowsToBytes(generateRows(2_000_000, 3)))
  await writeFile(join(data, 'nested', 'notes.txt'), 'first line\nsecond line\n')
  await writeFile(join(data, 'empty.txt'), '')
  const store = await openStore(join(root, 'home'))
  try {
    await initDataset(store, 'corpus')
    await commitVersion(store, { name: 'corpus', path: data, message: 'v1', time: 0 })
    const whole = await tokenizeVersion(store, 'corpus', 'byte')
    const out = join(root, 'out', 'tokens.i32')
    let progressed = 0
    const streamed = await streamTokens(store, 'corpus', 'byte', { out, onProgress: tokens => { progressed = tokens } })
    assert.equal(streamed.tokens, whole.tokens.length)
    assert.equal(progressed, whole.tokens.length)
    assert.equal(streamed.files, whole.files)
    assert.ok(streamed.cid.equals(whole.cid))
    assert.equal(streamed.tokensRoot, tokensRootOf(whole.tokens))
    const written = await readFile(out)
    const expected = Buffer.alloc(whole.tokens.length * 4)
    for (let i = 0; i < whole.tokens.length; i++) expected.writeInt32LE(whole.tokens[i], i * 4)
    assert.ok(written.equals(expected))
    assert.deepEqual((await readdir(join(root, 'out'))).filter(name => name !== 'tokens.i32'), [], 'no temp file left')
    const counted = await streamTokens(store, 'corpus', 'byte')
    assert.equal(counted.tokensRoot, streamed.tokensRoot)
    assert.equal(counted.out, undefined)
  } finally {
    await store.close()
  }
})

test('a BPE version\'s stored stream is two bytes a token, and reads back as the tokens tokenizeVersion gives', async () => {
  const data = join(root, 'bpe-data')
  await mkdir(data, { recursive: true })
  await writeFile(join(data, 'corpus.jsonl'), rowsToBytes(generateRows(300_000, 4)))
  const store = await openStore(join(root, 'bpe-home'))
  try {
    await initDataset(store, 'corpus')
    const { cid } = await commitVersion(store, { name: 'corpus', path: data, message: 'v1', time: 0 })
    const version = cid.toString()
    const { tokens: bytes } = await tokenizeVersion(store, version, 'byte')
    const bpe = trainBpe(Uint8Array.from(bytes), 600)
    assert.ok(new BpeTokenizer(bpe).vocab > 256, 'a vocabulary past one byte')
    const tokenizer = (await putRaw(store.blocks, tokenizerFile(bpe))).toString()
    const whole = await tokenizeVersion(store, version, tokenizer)
    const stream = await openTokenStream(store, version, tokenizer)
    try {
      assert.equal(stream.width, 2)
      assert.equal(stream.length, whole.tokens.length)
      assert.equal((await readFile(tokenStreamPath(store.home, version, tokenizer))).length, 2 * whole.tokens.length, 'two bytes a token on disk')
      assert.equal(stream.tokensRoot, tokensRootOf(whole.tokens))
      assert.deepEqual(stream.subarray(0, stream.length), whole.tokens, 'every token reads back')
      assert.deepEqual(stream.subarray(1001, 1517), whole.tokens.subarray(1001, 1517), 'a window from an odd offset')
    } finally {
      stream.close()
    }
  } finally {
    await store.close()
  }
})

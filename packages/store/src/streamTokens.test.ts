import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tokensRootOf } from '@commons/engine'
import { commitVersion, generateRows, initDataset, openStore, rowsToBytes, tokenizeVersion } from './index.ts'
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

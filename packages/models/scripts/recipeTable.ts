// The BPE recipe family (recipes/bpe-*.json) trained for a few minutes each on this
// machine: loss against tokens seen and time, as a table. Training text: every README.md
// under node_modules (sorted by path; fixed by package-lock.json), real English and code.
//   node packages/models/scripts/recipeTable.ts [--minutes 3] [--json]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { glob } from 'node:fs/promises'
import { openBackend, parameterCount, readRecipe, train } from '@commons/engine'
import { BpeTokenizer, tokenizerJson, trainBpe } from '@commons/tokenizer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } })
const repo = join(import.meta.dirname, '..', '..', '..')
const log = (line: string): void => { process.stderr.write(`${line}\n`) }

const files: string[] = []
for await (const file of glob('node_modules/**/README.md', { cwd: repo })) if (!/(linux|darwin|win32|android|freebsd)-|@node-llama-cpp\//.test(file)) files.push(file)
files.sort()
const corpus = Buffer.concat(await Promise.all(files.map(async f => readFile(join(repo, f)))))
log(`corpus: ${files.length} READMEs, ${(corpus.length / 1e6).toFixed(1)} MB`)

// The family's tokenizer, committed beside the recipes; training it again gives the same bytes.
const tokenizerPath = join(repo, 'recipes', 'tokenizers', 'readmes-2048.json')
const bpe = trainBpe(corpus.subarray(0, 4_000_000), 2048)
const json = Buffer.from(JSON.stringify(tokenizerJson(bpe)))
const cid = CID.createV1(raw.code, await sha256.digest(json)).toString()
const committed = await readFile(tokenizerPath).catch(() => null)
if (committed === null) await writeFile(tokenizerPath, json)
else if (!committed.equals(json)) throw new Error(`${relative(repo, tokenizerPath)} is not what training gives: delete it to write it again`)
const tokens = new BpeTokenizer(bpe).encode(corpus)
log(`tokenizer ${cid}: ${tokens.length} tokens (${(corpus.length / tokens.length).toFixed(2)} bytes each)`)

/** Thrown from onStep when a recipe's minutes are up (train stops at the step). */
class TimeIsUp extends Error {}

const minutes = Number(values.minutes)
const rows: Array<Record<string, number | string>> = []
const backend = openBackend('auto', 2)
for (const name of ['bpe-1m', 'bpe-10m', 'bpe-30m']) {
  const recipe = await readRecipe(join(repo, 'recipes', `${name}.json`))
  if (recipe.tokenizer !== cid) throw new Error(`recipes/${name}.json names tokenizer ${recipe.tokenizer}, training gives ${cid}`)
  const params = parameterCount(recipe.model)
  const out = await mkdtemp(join(tmpdir(), `commons-${name}-`))
  const started = performance.now()
  const seen: Array<{ step: number, seconds: number, loss: number }> = []
  log(`${name}: ${(params / 1e6).toFixed(1)}M parameters, ${minutes} min on ${backend.name}`)
  try {
    await train(backend.ctx, {
      recipe, tokens, tokenizerJson: json, data: { source: 'node_modules READMEs' }, out: join(out, 'run'),
      onStep: p => {
        const seconds = (performance.now() - started) / 1000
        seen.push({ step: p.step, seconds, loss: p.loss })
        if (p.step % 10 === 0) log(`  step ${p.step} loss ${p.loss.toFixed(3)} ${seconds.toFixed(0)} s`)
        if (seconds > minutes * 60) throw new TimeIsUp()
      }
    })
  } catch (error) {
    if (!(error instanceof TimeIsUp)) throw error
  } finally {
    await rm(out, { recursive: true, force: true })
  }
  const perStep = recipe.batchSize * recipe.model.context
  const mean = (from: number): number => { const last = seen.slice(from); return last.reduce((s, r) => s + r.loss, 0) / last.length }
  const end = seen[seen.length - 1]
  rows.push({
    recipe: name, parameters: params, steps: end.step + 1, tokens: (end.step + 1) * perStep, seconds: Math.round(end.seconds),
    tokensPerSecond: Math.round(((end.step + 1) * perStep) / end.seconds), firstLoss: Number(seen[0].loss.toFixed(3)), lastLoss: Number(mean(Math.max(0, seen.length - 10)).toFixed(3))
  })
}
await backend.close()
if (values.json) console.log(JSON.stringify({ tokenizer: cid, corpusBytes: corpus.length, corpusTokens: tokens.length, minutes, rows }, null, 2))
else {
  console.log('| recipe | parameters | steps | tokens | seconds | tokens/s | first loss | loss (mean of last 10 steps) |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const r of rows) console.log(`| ${r.recipe} | ${(Number(r.parameters) / 1e6).toFixed(1)}M | ${r.steps} | ${r.tokens} | ${r.seconds} | ${r.tokensPerSecond} | ${r.firstLoss} | ${r.lastLoss} |`)
}

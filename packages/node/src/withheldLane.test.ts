import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { referenceContext, train, type Recipe } from '@commons/engine'
import { firstWindowToEnd, paceGuard, WindowClosedError } from './checkWithheld.ts'

/**
 * The lane of checks without the run. The order: results are checked The attack: a trainer hides honest
 * runs with long windows ahead of a lie with a short one; first come, first served would
 * re-train them all before the lie, and its window would end unchecked.
 */
describe('checks without the run, in the order their windows end', () => {
  const waitingFor = (...jobs: bigint[]): Map<bigint, bigint | undefined> => new Map(jobs.map(id => [id, undefined]))

  it('takes the job whose window ends first, whatever the order they came in', async () => {
    const ends = new Map([[1n, 9_000n], [2n, 7_000n], [3n, 1_000n], [4n, 5_000n]])
    const waiting = waitingFor(...ends.keys())
    const windowEnd = async (id: bigint): Promise<bigint> => ends.get(id) as bigint
    const order: bigint[] = []
    for (let next = await firstWindowToEnd(waiting, windowEnd); next !== undefined; next = await firstWindowToEnd(waiting, windowEnd)) order.push(next)
    assert.deepEqual(order, [3n, 4n, 2n, 1n])
    assert.equal(waiting.size, 0)
  })

  it('a job added while others wait goes ahead of them when its window ends sooner; each window is read once', async () => {
    const ends = new Map([[1n, 9_000n], [2n, 8_000n], [3n, 100n]])
    const reads: bigint[] = []
    const windowEnd = async (id: bigint): Promise<bigint> => { reads.push(id); return ends.get(id) as bigint }
    const waiting = waitingFor(1n, 2n)
    assert.equal(await firstWindowToEnd(waiting, windowEnd), 2n)
    waiting.set(3n, undefined)
    assert.equal(await firstWindowToEnd(waiting, windowEnd), 3n)
    assert.equal(await firstWindowToEnd(waiting, windowEnd), 1n)
    assert.deepEqual(reads.sort(), [1n, 2n, 3n])
  })

  it('a job whose window cannot be read (an RPC failing) goes first, and the others keep their order', async () => {
    const waiting = waitingFor(5n, 6n, 7n)
    const windowEnd = async (id: bigint): Promise<bigint> => { if (id === 6n) throw new Error('rpc down'); return 1_000n - id }
    assert.equal(await firstWindowToEnd(waiting, windowEnd), 6n)
    assert.equal(await firstWindowToEnd(waiting, windowEnd), 7n)
    assert.equal(await firstWindowToEnd(waiting, windowEnd), 5n)
    assert.equal(await firstWindowToEnd(new Map(), windowEnd), undefined)
  })
})

/**
 * A check's training that cannot end inside the window is given up once its pace shows
 * it: jobs whose training outlasts their window (decoys a trainer hides ahead of its lie)
 * cannot hold the lane for a whole training each.
 */
describe('a check\'s training and the window it must end in', () => {
  const root = join(import.meta.dirname, '..', '..', '..')
  let dir: string | undefined
  after(async () => { if (dir !== undefined) await rm(dir, { recursive: true, force: true }) })

  const trainWithin = async (windowMs: number): Promise<number> => {
    const tiny = JSON.parse(await readFile(join(root, 'recipes', 'tiny.json'), 'utf8')) as Recipe
    const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 60, checkpointInterval: 20 }
    const tokens = Int32Array.from(await readFile(join(root, 'packages', 'engine', 'fixtures', 'corpus.txt')))
    dir = await mkdtemp(join(tmpdir(), 'commons-pace-'))
    let steps = 0
    const guard = paceGuard(Date.now() + windowMs)
    await train(referenceContext(), { recipe, tokens, data: { source: 'corpus' }, out: join(dir, String(windowMs)), onStep: progress => { steps++; guard(progress) } })
    return steps
  }

  it('gives up after ten steps when the rest would end past the window', async () => {
    await assert.rejects(trainWithin(20), (error: unknown) => error instanceof WindowClosedError && /would end \d+ s after its challenge window/.test(error.message))
  })

  it('trains to the end when the window leaves time', async () => {
    assert.equal(await trainWithin(3_600_000), 60)
  })
})

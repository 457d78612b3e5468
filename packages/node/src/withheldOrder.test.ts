import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { firstWindowToEnd } from './checkWithheld.ts'

/**
 * The order results are checked without their run. The attack: a trainer hides honest
 * runs with long windows ahead of a lie with a short one; first come, first served would
 * re-train them all before the lie, and its window would end unchecked.
 */
describe('checks without the run, in the order their windows end', () => {
  it('takes the job whose window ends first, whatever the order they came in', async () => {
    const ends = new Map([[1n, 9_000n], [2n, 7_000n], [3n, 1_000n], [4n, 5_000n]])
    const waiting = new Set(ends.keys())
    const order: bigint[] = []
    for (let next = await firstWindowToEnd(waiting, async id => ends.get(id) as bigint); next !== undefined; next = await firstWindowToEnd(waiting, async id => ends.get(id) as bigint)) order.push(next)
    assert.deepEqual(order, [3n, 4n, 2n, 1n])
    assert.equal(waiting.size, 0)
  })

  it('a job added while others wait goes ahead of them when its window ends sooner', async () => {
    const ends = new Map([[1n, 9_000n], [2n, 8_000n]])
    const waiting = new Set(ends.keys())
    const windowEnd = async (id: bigint): Promise<bigint> => ends.get(id) as bigint
    assert.equal(await firstWindowToEnd(waiting, windowEnd), 2n)
    ends.set(3n, 100n)
    waiting.add(3n)
    assert.equal(await firstWindowToEnd(waiting, windowEnd), 3n)
    assert.equal(await firstWindowToEnd(waiting, windowEnd), 1n)
  })

  it('takes the job that waited longest when a window cannot be read (an RPC failing), so none is lost', async () => {
    const waiting = new Set([5n, 6n])
    assert.equal(await firstWindowToEnd(waiting, async () => { throw new Error('rpc down') }), 5n)
    assert.deepEqual([...waiting], [6n])
    assert.equal(await firstWindowToEnd(new Set(), async () => 0n), undefined)
  })
})

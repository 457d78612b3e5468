import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { decodeEventLog, encodeAbiParameters, encodeEventTopics, type Hex } from 'viem'
import { modelFileDisputesAbi } from '@commons/chain'
import type { ExplorerContext } from './context.ts'
import { ExplorerIndex } from './explorerIndex.ts'
import { listModelFileDisputeViews } from './views/modelFileDisputes.ts'

/**
 * A model-file conviction as the disputes page lists it: the event's log decoded by the
 * contract's ABI (as indexChain does), stored in the index, shown with its fault by name,
 * both words as float32 and bits, and the slash of the same transaction.
 */
describe('listModelFileDisputeViews', () => {
  it('names the fault, shows both values and the slash of the convicting transaction', () => {
    const index = new ExplorerIndex(':memory:')
    const challenger = '0x00000000000000000000000000000000000000c1'
    const trainer = '0x00000000000000000000000000000000000000a7'
    const topics = encodeEventTopics({ abi: modelFileDisputesAbi, eventName: 'ModelFileConvicted', args: { jobId: 3n, challenger } })
    const data = encodeAbiParameters([{ type: 'uint32' }, { type: 'uint8' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint32' }, { type: 'uint32' }], [1, 1, 4n, 17n, 0x3f800000, 0x40000000])
    const log = decodeEventLog({ abi: modelFileDisputesAbi, topics: topics as [Hex, ...Hex[]], data })
    const tx = '0x' + 'ab'.repeat(32)
    index.addWindow([
      { block: 10, logIndex: 0, tx, contract: 'registry', address: '0x01', name: 'Slashed', args: { node: trainer, amount: 200n * 10n ** 18n } },
      { block: 10, logIndex: 1, tx, contract: 'modelFileDisputes', address: '0x02', name: log.eventName, args: log.args }
    ], [{ hash: tx, sender: challenger, gas: 90_000n, block: 10 }], [{ number: 10, time: 1_700_000_000 }], 10n)
    const [view] = listModelFileDisputeViews({ index } as ExplorerContext)
    assert.equal(view.job, '3')
    assert.equal(view.fault, 'wrong weight')
    assert.deepEqual([view.slot, view.element], ['4', '17'])
    assert.deepEqual(view.committed, { bits: '0x3f800000', value: 1 })
    assert.deepEqual(view.inFile, { bits: '0x40000000', value: 2 })
    assert.deepEqual(view.slashes, [{ node: trainer, amount: (200n * 10n ** 18n).toString() }])
    assert.equal(view.convicted.gas, '90000')
    index.close()
  })
})

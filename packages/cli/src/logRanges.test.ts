import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, parseEther, toHex } from 'viem'
import { advanceTime, connect, devnetAccount, mineBlocks, postJob, readManifest, startDevnet, type Devnet } from '@commons/chain'
import { startRpcProxy, type RpcProxy } from '@commons/node/testing/rpcProxy'
import { commons, errorName, type Run } from './testing.ts'

/**
 * The DAO and job commands on a hosted provider: eth_getLogs capped at 1,000 blocks (the
 * proxy refuses a wider query, as many providers do), on a chain mined 1,200 blocks
 * before the deployment and 1,200 after the DAO's creation. A read from genesis, or
 * from the deployment to the head in one request, is refused: each command must read
 * its events in bounded windows.
 */

const HEAD_1 = 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i'
const HEAD_2 = 'bafyreifzd6yrhbx4ejmyxsgylv6hsklrf4jv7gn2hcj3us7v7bnbwgjb7y'
const MODEL = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

let root: string
let devnet: Devnet
let proxy: RpcProxy
let h: string[]

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-log-ranges-'))
  devnet = await startDevnet({ home: join(root, 'chain-home') })
  proxy = await startRpcProxy({ target: devnet.rpcUrl, maxLogRange: 1000 })
  h = ['--home', join(root, 'home'), '--rpc', proxy.url, '--json']
  // Past the cap before the deployment too: a read from genesis spans more than 1,000 blocks.
  await mineBlocks(devnet.rpcUrl, 1200)
  must(await commons(['chain', 'deploy', ...h]))
})
after(async () => {
  await proxy?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

function must (run: Run): Run {
  assert.equal(run.code, 0, run.stderr)
  return run
}
const json = <T>(run: Run): T => JSON.parse(must(run).stdout) as T

describe('DAO and job commands behind a provider that caps eth_getLogs at 1,000 blocks', () => {
  it('create, list, propose, vote, execute, deposit and show a DAO, list and show jobs, read the feed, with 1,200 blocks before the deployment and 1,200 after the DAO\'s creation', { timeout: 180_000 }, async () => {
    const [a, b] = [devnetAccount(0).address, devnetAccount(1).address]
    must(await commons(['dao', 'create', 'capped', '--head', HEAD_1, '--member', `${a}:70`, '--member', `${b}:30`, ...h]))
    await mineBlocks(devnet.rpcUrl, 1200)
    assert.deepEqual(json<Array<{ name: string }>>(await commons(['dao', 'list', ...h])).map(d => d.name), ['capped'])

    const proposalId = String(json<{ proposalId: unknown }>(await commons(['dao', 'propose', 'capped', '--set-head', HEAD_2, '-m', 'the second version', ...h])).proposalId)
    await advanceTime(devnet.rpcUrl, 2)
    must(await commons(['dao', 'vote', 'capped', proposalId, 'for', ...h]))
    must(await commons(['dao', 'vote', 'capped', proposalId, 'for', '--account', '1', ...h]))
    await advanceTime(devnet.rpcUrl, 61)
    // Queued (the calls read back from ProposalCreated, over 1,000 blocks after the deployment), then refused: the timelock runs.
    const early = await commons(['dao', 'execute', 'capped', proposalId, ...h])
    assert.equal(early.code, 1)
    assert.equal(errorName(early), 'ContractRevertError')
    assert.equal((JSON.parse(early.stderr) as { error: { details: { error: string } } }).error.details.error, 'TimelockNotPassed')
    await advanceTime(devnet.rpcUrl, 11)
    assert.equal(json<{ executed: boolean }>(await commons(['dao', 'execute', 'capped', proposalId, ...h])).executed, true)
    must(await commons(['dao', 'deposit', 'capped', '5', ...h]))

    const shown = json<{ head: string, headHistory: unknown[], proposals: Array<{ state: string }>, members: unknown[], treasury: unknown }>(await commons(['dao', 'show', 'capped', ...h]))
    assert.equal(shown.head, HEAD_2)
    assert.equal(shown.headHistory.length, 1, 'the proposal\'s change of head, over 1,000 blocks after the deployment')
    assert.deepEqual(shown.proposals.map(p => p.state), ['executed'])
    assert.equal(shown.members.length, 2)
    assert.equal(String(shown.treasury), String(parseEther('5')))

    const bank = await connect(devnet.rpcUrl, devnetAccount(0))
    const deployment = await readManifest(join(root, 'home', 'chain', 'deployment.json'))
    const { jobId } = await postJob(bank, deployment, {
      datasetCid: HEAD_2, tokensRoot: keccak256(toHex('tokens')), recipeCid: MODEL, programHash: keccak256(toHex('program')), modelHeader: keccak256(toHex('model header')),
      seed: 7n, steps: 50, reward: parseEther('100'), jobStake: parseEther('200'), trainingTime: 3600n, challengeWindow: 600n
    })
    assert.deepEqual(json<Array<{ id: unknown, status: string }>>(await commons(['job', 'list', ...h])).map(j => [String(j.id), j.status]), [[String(jobId), 'open']])
    const job = json<{ status: string, disputes: unknown[] }>(await commons(['job', 'show', String(jobId), ...h]))
    assert.deepEqual([job.status, job.disputes], ['open', []])

    assert.equal(json<{ verdict: string }>(await commons(['feed', 'read', ...h])).verdict.length > 0, true, 'the feed reads through it too')

    assert.equal(proxy.refusedRanges, 0, 'no eth_getLogs spanned more than 1,000 blocks')
    assert.ok((proxy.counts.get('eth_getLogs') ?? 0) >= 10, 'the history was read in windows')
  })
})

import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { connect, deploy, devnetAccount, modelHeaderOf, postJob, readJob, registerAndStake, startDevnet, transferTokens, type Deployment, type Devnet, type JobSpec } from '@commons/chain'
import { toHex } from '@commons/protocol'
import { initialState, readRecords, stateRootOf, type Recipe } from '@commons/engine'
import { peerIdBytes, startNode, type CommonsNode } from './node.ts'
import { startRpcProxy, type RpcProxy } from './testing/rpcProxy.ts'
import { tinyJob } from './testing/tinyJob.ts'
import { until as waitUntil, type Check } from './testing/until.ts'

/**
 * Finding 3: a requester posts terms (seed, steps, program hash, tokens root) that the
 * dispute game judges a trainer by. A trainer must check every term before it claims,
 * and train with the job's terms, or an honest trainer could be slashed.
 */

let root: string
let devnet: Devnet
/** Every node talks to the chain through a provider that caps eth_getLogs at 1,000 blocks. */
let proxy: RpcProxy
let deployment: Deployment
let requester: CommonsNode
let trainer: CommonsNode
let validator: CommonsNode
let version: string
let recipe: Recipe
const nodes: CommonsNode[] = []

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-terms-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  proxy = await startRpcProxy({ target: devnet.rpcUrl, maxLogRange: 1000 })
  const bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank, { disputeBond: parseEther('10') }), rpcUrl: devnet.rpcUrl }
  const start = async (name: string, roles: Parameters<typeof startNode>[0]['roles'], extra: Partial<Parameters<typeof startNode>[0]> = {}): Promise<CommonsNode> => {
    const node = await startNode({ home: join(root, name), rpcUrl: proxy.url, deployment, roles, password: 'x', scryptN: 2 ** 10, apiPort: false, pollMs: 200, fetchTimeoutMs: 3_000, ...extra })
    nodes.push(node)
    await bank.wallet.sendTransaction({ to: node.address, value: parseEther('5') })
    await transferTokens(bank, deployment, node.address, parseEther('5000'))
    return node
  }
  requester = await start('requester', ['requester'])
  trainer = await start('trainer', ['trainer'], { policy: { maxSteps: 50, maxChallengeWindow: 7200n } })
  validator = await start('validator', ['validator'], { checkSteps: 'all' })
  for (const [node, role] of [[trainer, 'trainer'], [validator, 'validator']] as const) {
    await registerAndStake(node.clients, deployment, { peerId: peerIdBytes(node.peerId), roles: [role], amount: parseEther('1000') })
    await node.network.connect(requester.network.multiaddrs()[0])
  }
  await validator.network.connect(trainer.network.multiaddrs()[0])
  ;({ version, recipe } = await tinyJob(requester.store, root, 30_000, 3))
})

after(async () => {
  for (const node of nodes) await node.stop().catch(() => {})
  assert.equal(proxy?.refusedRanges ?? 0, 0, 'no node asked for more than 1,000 blocks of logs')
  await proxy?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

const until = async (what: string, check: Check, timeoutMs = 120_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 100 })

const baseParams = () => ({ datasetCid: version, recipe, reward: parseEther('100'), jobStake: parseEther('100') })

/** Posts `spec` (the honest terms, altered) and waits for the trainer's verdict (past any 'skipped' for now). */
async function refusal (alter: (spec: JobSpec) => JobSpec): Promise<Record<string, unknown>> {
  const spec = alter(await requester.jobSpec(baseParams()))
  const { jobId } = await postJob(requester.clients, deployment, spec)
  await until(`the trainer to judge job ${jobId}`, () => ![undefined, 'skipped'].includes(trainer.state.job(jobId, 'trainer')?.status))
  const row = trainer.state.job(jobId, 'trainer')
  assert.equal(row?.status, 'refused', `job ${jobId} is refused (${JSON.stringify(row)})`)
  assert.equal((await readJob(requester.clients, deployment, jobId)).statusName, 'open', 'and never claimed')
  return row.detail
}

const refusedTerm = async (alter: (spec: JobSpec) => JobSpec): Promise<string> => String((await refusal(alter)).term)

describe('a trainer checks every term of a job before it claims', () => {
  it('refuses a job whose program hash is not its recipe\'s', async () => {
    assert.equal(await refusedTerm(spec => ({ ...spec, programHash: `0x${'11'.repeat(32)}` })), 'programHash')
  })

  it('refuses a job whose steps do not match its program hash', async () => {
    assert.equal(await refusedTerm(spec => ({ ...spec, steps: spec.steps + 1 })), 'programHash')
  })

  it('refuses a job whose tokens root is not its dataset\'s', async () => {
    assert.equal(await refusedTerm(spec => ({ ...spec, tokensRoot: `0x${'22'.repeat(32)}` })), 'tokensRoot')
  })

  it('refuses a job whose model header is not its recipe\'s (an honest file would be convicted by it)', async () => {
    assert.equal(await refusedTerm(spec => ({ ...spec, modelHeader: `0x${'33'.repeat(32)}` })), 'modelHeader')
  })

  // No peer holds these: the fetch times out (3 s here), which may be the network's fault,
  // so the job is skipped and asked for again, and refused after the third time out.
  it('refuses a job whose recipe no peer gives, after asking three times', async () => {
    const detail = await refusal(spec => ({ ...spec, recipeCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' }))
    assert.deepEqual([detail.term, detail.fetchTimeouts], ['recipe', 2])
  })

  it('refuses a job whose dataset no peer gives, after asking three times', async () => {
    const detail = await refusal(spec => ({ ...spec, datasetCid: 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i' }))
    assert.deepEqual([detail.term, detail.fetchTimeouts], ['dataset', 2])
  })

  it('refuses jobs outside its policy (window, steps, reward)', async () => {
    assert.equal(await refusedTerm(spec => ({ ...spec, challengeWindow: 7201n })), 'challengeWindow')
    assert.equal(await refusedTerm(spec => ({ ...spec, steps: 51 })), 'steps')
    assert.equal(await refusedTerm(spec => ({ ...spec, reward: 1n })), 'reward')
  })

  it('trains a job whose seed differs from its recipe\'s with the job\'s seed, and the validator\'s replay agrees', async () => {
    const spec = await requester.jobSpec(baseParams())
    const seed = recipe.seed + 7
    // The model file's header names the recipe the job trains: with the job's seed.
    const { jobId } = await postJob(requester.clients, deployment, { ...spec, seed: BigInt(seed), modelHeader: modelHeaderOf({ ...recipe, seed }, spec.tokensRoot) })
    await until('the validator to judge the result', () => {
      const status = validator.state.job(jobId, 'validator')?.status
      return status === 'attested' || status === 'disputed'
    })
    assert.equal(validator.state.job(jobId, 'validator')?.status, 'attested')
    assert.equal(validator.state.disputes().length, 0)
    assert.equal((await readJob(requester.clients, deployment, jobId)).statusName, 'submitted')
    // S_0 is the one the dispute game would rebuild: from the job's seed, not the recipe's.
    const records = await readRecords(join(root, 'trainer', 'runs', `job-${jobId}`))
    assert.equal(records[0].state, toHex(stateRootOf(initialState({ ...recipe, seed }))))
    assert.notEqual(records[0].state, toHex(stateRootOf(initialState(recipe))))
  })
})

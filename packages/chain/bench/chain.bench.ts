import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, parseEther, toHex, type TransactionReceipt } from 'viem'
import type { BenchResult } from '../../../bench/table.ts'
import {
  actions, advanceTime, attestJob, claimJob, connect, createDao, deploy, devnetAccount, escrowToFork, execute, executeFork,
  finalizeJob, postJob, propose, queue, registerAndStake, send, startDevnet, submitResult, transferTokens, vote,
  commonsTokenAbi, stakeRegistryAbi, type Clients
} from '../src/index.ts'

const CID_A = 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i'
const CID_B = 'bafyreifzd6yrhbx4ejmyxsgylv6hsklrf4jv7gn2hcj3us7v7bnbwgjb7y'
const MODEL = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

/**
 * Gas of every user action on a real anvil, next to a plain ERC-20 transfer measured
 * in the same run as the reference.
 */
export async function benchChain (log: (line: string) => void): Promise<BenchResult> {
  const home = await mkdtemp(join(tmpdir(), 'commons-bench-chain-'))
  const devnet = await startDevnet({ home })
  try {
    log('chain: deploying to a fresh anvil')
    const as: Clients[] = []
    for (let i = 0; i < 5; i++) as.push(await connect(devnet.rpcUrl, devnetAccount(i)))
    const [deployer, alice, bob, trainer, validator] = as
    const deployment = await deploy(deployer)
    const gas: Array<[string, TransactionReceipt | bigint]> = []
    const transfer = await transferTokens(deployer, deployment, alice.account.address, parseEther('10000'))
    for (const c of [bob, trainer, validator]) await transferTokens(deployer, deployment, c.account.address, parseEther('10000'))

    await send(trainer, { address: deployment.contracts.registry, abi: stakeRegistryAbi, functionName: 'register', args: [toHex('12D3KooW-trainer-peer-id-bytes'), 1] })
    await send(trainer, { address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [deployment.contracts.registry, parseEther('1000')] })
    gas.push(['stake', await send(trainer, { address: deployment.contracts.registry, abi: stakeRegistryAbi, functionName: 'stake', args: [parseEther('1000')] })])
    await registerAndStake(validator, deployment, { peerId: toHex('validator'), roles: ['validator'], amount: parseEther('100') })

    const created = await createDao(alice, deployment, { name: 'corpus', head: CID_A, members: [{ account: alice.account.address, shares: 70n }, { account: bob.account.address, shares: 30n }] })
    gas.push(['create DAO', created.receipt])
    await transferTokens(alice, deployment, created.dao, parseEther('1000'))
    const proposal = await propose(alice, created.dao, { actions: [actions.setHead(created.dao, CID_B)], description: 'make version 2 canonical' })
    gas.push(['propose (set head)', proposal.receipt])
    await advanceTime(devnet.rpcUrl, 2)
    gas.push(['vote', await vote(alice, created.dao, proposal.proposalId, 'for')])
    await advanceTime(devnet.rpcUrl, 61)
    gas.push(['queue', await queue(alice, created.dao, proposal.proposalId)])
    await advanceTime(devnet.rpcUrl, 10)
    gas.push(['execute (set head)', await execute(alice, created.dao, proposal.proposalId)])
    gas.push(['fork: escrow shares', await escrowToFork(bob, created.dao, 30n)])
    gas.push(['fork: execute (new DAO)', (await executeFork(bob, created.dao)).receipt])

    const posted = await postJob(alice, deployment, {
      datasetCid: CID_B, tokensRoot: keccak256(toHex('tokens')), recipeCid: MODEL, programHash: keccak256(toHex('program')), modelHeader: keccak256(toHex('model header')),
      seed: 1n, steps: 1000, reward: parseEther('100'), jobStake: parseEther('200'), trainingTime: 3600n, challengeWindow: 600n
    })
    gas.push(['post job', posted.receipt])
    gas.push(['claim', await claimJob(trainer, deployment, posted.jobId)])
    gas.push(['submit result', await submitResult(trainer, deployment, { jobId: posted.jobId, modelCid: MODEL, transcriptRoot: keccak256(toHex('t')), steps: 1000 })])
    gas.push(['attest', await attestJob(validator, deployment, posted.jobId)])
    await advanceTime(devnet.rpcUrl, 601)
    gas.push(['finalize', await finalizeJob(alice, deployment, posted.jobId)])

    const reference = transfer.gasUsed
    const rows = gas.map(([action, r]) => {
      const used = typeof r === 'bigint' ? r : r.gasUsed
      return [action, used.toString(), (Number(used) / Number(reference)).toFixed(1)]
    })
    return {
      part: 'chain',
      title: 'Gas per user action (anvil, optimizer 200 runs)',
      columns: ['action', 'gas', 'x ERC-20 transfer'],
      rows,
      notes: [
        `reference: an ERC-20 transfer of the same token, ${reference} gas, measured in this run`,
        'finalize pays one attesting validator; each more adds one transfer; create and fork make a minimal clone (EIP-1167) of one DAO implementation'
      ],
      figures: { reference: { erc20Transfer: Number(reference) }, gas: Object.fromEntries(rows.map(([a, g]) => [a, Number(g)])) }
    }
  } finally {
    await devnet.stop()
    await rm(home, { recursive: true, force: true })
  }
}

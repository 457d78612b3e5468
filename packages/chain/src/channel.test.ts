import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import {
  advanceTime, channelBetween, claimVoucher, connect, deploy, devnetAccount, liveServices, openChannel, readChannel, readService, reclaimChannel,
  registerAndStake, registerService, retireService, signVoucher, startDevnet, tokenBalance, topUpChannel, transferTokens, voucherSigner,
  type Clients, type Deployment, type Devnet
} from './index.ts'

let home: string
let devnet: Devnet
let deployment: Deployment
const as: Record<string, Clients> = {}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-channel-'))
  devnet = await startDevnet({ home })
  for (const [i, name] of ['deployer', 'client', 'provider'].entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer)
  for (const name of ['client', 'provider']) await transferTokens(as.deployer, deployment, as[name].account.address, parseEther('1000'))
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

const now = async (): Promise<bigint> => (await as.client.public.getBlock()).timestamp
const refusal = (name: string) => (error: unknown): boolean => {
  assert.equal((error as { details?: { error?: string } }).details?.error, name)
  return true
}

describe('payment channels on a real anvil', () => {
  it('opens, pays by cumulative vouchers without closing, refuses replays, foreign vouchers and over-spending, tops up and reclaims', async () => {
    const provider = as.provider.account.address
    const channel = await openChannel(as.client, deployment, { provider, amount: parseEther('10'), expiry: await now() + 3600n })
    assert.equal(await channelBetween(as.client, deployment, as.client.account.address, provider), channel)
    const v2 = await signVoucher(as.client.account, deployment, channel, parseEther('2'))
    assert.equal(await voucherSigner(deployment, v2), as.client.account.address)
    const before = await tokenBalance(as.client, deployment, provider)
    await claimVoucher(as.provider, deployment, v2)
    assert.equal(await tokenBalance(as.client, deployment, provider) - before, parseEther('2'))
    await assert.rejects(claimVoucher(as.provider, deployment, v2), refusal('VoucherNotNewer'), 'a replayed voucher pays nothing')
    const otherChain = await signVoucher(as.client.account, { ...deployment, chainId: deployment.chainId + 1 }, channel, parseEther('3'))
    await assert.rejects(claimVoucher(as.provider, deployment, otherChain), refusal('InvalidVoucherSigner'), 'a voucher of another chain id')
    const otherContract = await signVoucher(as.client.account, { ...deployment, contracts: { ...deployment.contracts, paymentChannel: deployment.contracts.market } }, channel, parseEther('3'))
    await assert.rejects(claimVoucher(as.provider, deployment, otherContract), refusal('InvalidVoucherSigner'), 'a voucher of another contract')
    const over = await signVoucher(as.client.account, deployment, channel, parseEther('11'))
    await assert.rejects(claimVoucher(as.provider, deployment, over), refusal('Overspent'))
    await topUpChannel(as.client, deployment, { channel, amount: parseEther('1'), expiry: await now() + 7200n })
    await claimVoucher(as.provider, deployment, over)
    assert.deepEqual(await readChannel(as.client, deployment, channel).then(c => [c.deposit, c.claimed, c.open]), [parseEther('11'), parseEther('11'), true])
    await assert.rejects(reclaimChannel(as.client, deployment, channel), refusal('NotExpired'))
    await advanceTime(devnet.rpcUrl, 7201)
    await reclaimChannel(as.client, deployment, channel)
    assert.equal(await channelBetween(as.client, deployment, as.client.account.address, provider), null)
  })

  it('registers a service with stake locked in the StakeRegistry, lists it while live', async () => {
    await registerAndStake(as.provider, deployment, { peerId: '0x01', roles: [], amount: parseEther('50') })
    const id = await registerService(as.provider, deployment, { modelRoot: `0x${'ab'.repeat(32)}`, modelCid: '0x0171', pricePer1k: parseEther('0.5'), endpoint: 'http://127.0.0.1:1', stake: parseEther('20') })
    assert.equal((await readService(as.client, deployment, id)).stake, parseEther('20'))
    assert.deepEqual((await liveServices(as.client, deployment)).map(s => s.id), [id])
    await assert.rejects(registerService(as.provider, deployment, { modelRoot: `0x${'ab'.repeat(32)}`, modelCid: '0x', pricePer1k: 1n, endpoint: '', stake: parseEther('31') }), refusal('InsufficientFreeStake'))
    await retireService(as.provider, deployment, id)
    assert.deepEqual(await liveServices(as.client, deployment), [])
  })
})

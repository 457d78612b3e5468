import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther, toHex, type Address } from 'viem'
import { connect, DEVNET_MNEMONIC, devnetAccount, mineBlocks, startDevnet, type Deployment, type Devnet } from '@commons/chain'
import { loadOrCreateKey } from '@commons/node'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { commons, errorName, type Run } from './testing.ts'

/**
 * `commons chain deploy --rpc URL --key KEY|--keystore FILE`: a chain the home did not
 * start, a signer of the user's, a manifest per chain id, and a price feed chosen.
 */

let root: string
let devnet: Devnet

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-chain-deploy-'))
  devnet = await startDevnet({ home: join(root, 'chain-home') })
})
after(async () => {
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

function must (run: Run): Run {
  assert.equal(run.code, 0, run.stderr)
  return run
}
type Deployed = Deployment & { manifests: string[], deploymentGas: unknown, spentWei: unknown }

describe('commons chain deploy on a chain given by --rpc', () => {
  it('deploys as --key, prints what it did and records the deployment under the chain id', { timeout: 120_000 }, async () => {
    const key = toHex(mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: 3 }).getHdKey().privateKey as Uint8Array)
    const home = join(root, 'key-home')
    // One confirmation: every transaction waits for a block past its own, which the test mines meanwhile.
    const miner = setInterval(() => { void mineBlocks(devnet.rpcUrl, 1).catch(() => {}) }, 100)
    const run = await commons(['chain', 'deploy', '--rpc', devnet.rpcUrl, '--key', key, '--confirmations', '1', '--home', home, '--json']).finally(() => { clearInterval(miner) })
    must(run)
    const out = JSON.parse(run.stdout) as Deployed
    assert.equal(out.deployer, devnetAccount(3).address)
    assert.equal(out.chainId, 31337)
    assert.equal(out.priceFeedSource, 'deployed')
    assert.deepEqual(out.manifests, [join(home, 'chain', 'deployments', '31337.json'), join(home, 'chain', 'deployment.json')])
    const recorded = JSON.parse(await readFile(out.manifests[0], 'utf8')) as Deployment
    assert.deepEqual(recorded.contracts, out.contracts)
    assert.ok(BigInt(String(out.spentWei)) > 0n && BigInt(String(out.deploymentGas)) > 1_000_000n)

    // Again: refused, the deployment of this chain is live.
    const again = await commons(['chain', 'deploy', '--rpc', devnet.rpcUrl, '--key', key, '--home', home, '--json'])
    assert.equal(again.code, 1)
    assert.equal(errorName(again), 'AlreadyDeployedError')

    // An existing feed is recorded instead of a new one: here the first set's.
    const forced = JSON.parse(must(await commons(['chain', 'deploy', '--force', '--price-feed', out.contracts.priceFeed, '--rpc', devnet.rpcUrl, '--key', key, '--home', home, '--json'])).stdout) as Deployed
    assert.equal(forced.priceFeedSource, 'external')
    assert.equal(forced.contracts.priceFeed.toLowerCase(), out.contracts.priceFeed.toLowerCase())
    assert.notEqual(forced.contracts.market, out.contracts.market)
    const read = JSON.parse(must(await commons(['feed', 'read', '--rpc', devnet.rpcUrl, '--key', key, '--home', home, '--json'])).stdout) as { feed: Address }
    assert.equal(read.feed.toLowerCase(), out.contracts.priceFeed.toLowerCase(), 'readers read the recorded feed')
  })

  it('refuses a price feed address with no contract, before deploying anything', async () => {
    const run = await commons(['chain', 'deploy', '--price-feed', '0x000000000000000000000000000000000000dEaD', '--rpc', devnet.rpcUrl, '--home', join(root, 'no-feed'), '--json'])
    assert.equal(run.code, 1)
    assert.equal(errorName(run), 'InvalidChainInputError')
  })

  it('deploys as the key of an encrypted keystore, and refuses a keystore that is not there', { timeout: 120_000 }, async () => {
    const file = join(root, 'keystore.json')
    const { privateKey } = await loadOrCreateKey(file, { password: 'deploy-test', scryptN: 2 ** 12 })
    const signer = privateKeyToAccount(privateKey).address
    const bank = await connect(devnet.rpcUrl, devnetAccount(0))
    await bank.public.waitForTransactionReceipt({ hash: await bank.wallet.sendTransaction({ to: signer, value: parseEther('10') }) })
    const home = join(root, 'keystore-home')
    const env = { COMMONS_PASSWORD: 'deploy-test' }
    const out = JSON.parse(must(await commons(['chain', 'deploy', '--rpc', devnet.rpcUrl, '--keystore', file, '--home', home, '--json'], { env })).stdout) as Deployed
    assert.equal(out.deployer, signer)

    const missing = await commons(['chain', 'status', '--rpc', devnet.rpcUrl, '--keystore', join(root, 'nope.json'), '--home', home, '--json'], { env })
    assert.equal(missing.code, 1)
    assert.equal(errorName(missing), 'InvalidChainInputError')
  })
})

import { readFile } from 'node:fs/promises'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { parseEther, type Address, type Hex } from 'viem'
import { send, waitForReceipt, type Clients } from './clients.ts'
import {
  commonsTokenAbi, commonsTokenBytecode, datasetDaoFactoryAbi, datasetDaoFactoryBytecode, disputeGameAbi, disputeGameBytecode, modelFileDisputesAbi, modelFileDisputesBytecode,
  elementwiseProverAbi, elementwiseProverBytecode, inferenceDisputesAbi, indexProverAbi, indexProverBytecode, optimProverAbi, optimProverBytecode,
  priceFeedAbi, priceFeedBytecode, reduceProverAbi, serviceRegistryAbi, reduceProverBytecode, stakeRegistryAbi, stakeRegistryBytecode,
  stepVerifierAbi, stepVerifierBytecode, storageMarketAbi, storageMarketBytecode, trainingMarketAbi, trainingMarketBytecode
} from './generated/contracts.ts'
import { deployInference, type InferenceParams } from './deployInference.ts'
import { ContractRevertError, NotDeployedError } from './errors.ts'
import { defaultFeedUpdaters, FEED_DECIMALS, FEED_DESCRIPTION, startFeed } from './feed.ts'
import { checkFeed, feedFor } from './chainlinkFeeds.ts'

export interface DeployParams extends InferenceParams {
  /** Whole token supply, minted to the deployer. */
  supply?: bigint
  /** Seconds between unbonding and withdrawal. */
  unbondingDelay?: bigint
  /** Who may authorise slashers and dispute games and set parameters; the deployer by default. */
  governance?: Address
  /** Challenger bond of the dispute game, in token units. */
  disputeBond?: bigint
  /** Seconds each party of a dispute has for its move. */
  moveTime?: bigint
  /** Owner of the devnet price feed (grants the updater role); the deployer by default. */
  priceOperator?: Address
  /** Accounts that may post prices; the deployer, and on a devnet also the devnet updater's key. */
  priceUpdaters?: Address[]
  /** Storage proofs: blocks after a challenge block before a proof counts, and blocks a proof window lasts (at most 256). */
  storageFinality?: number
  storageWindow?: number
  /**
   * A price feed already on the chain (a Chainlink aggregator) to record instead of
   * deploying one; by default Chainlink's ETH / USD where the chain has a known one
   * (CHAINLINK_ETH_USD), else a PriceFeed is deployed.
   */
  priceFeed?: Address
  /** Told what is being sent, one line per transaction (a public chain takes a while for each). */
  progress?: (step: string) => void
}

/** Where the contract set lives on one chain: the manifest written by `deploy`. */
export interface Deployment {
  chainId: number
  rpcUrl: string
  deployer: Address
  deployedAt: string
  block: string
  contracts: {
    token: Address
    registry: Address
    market: Address
    daoFactory: Address
    priceFeed: Address
    stepVerifier: Address
    disputeGame: Address
    storageMarket: Address
    /** Model-file disputes (absent from manifests written before them). */
    modelFileDisputes?: Address
    /** The inference market (absent from manifests written before it). */
    serviceRegistry?: Address
    paymentChannel?: Address
    /** Validators' scoring of the inference providers (absent from manifests written before it). */
    scoringEpochs?: Address
    /** Disputes of generated tokens (absent from manifests written before them). */
    inferenceDisputes?: Address
  }
  gas: Record<string, string>
  /** Where the price feed came from: deployed with the set, or an existing feed (Chainlink's) recorded. Absent in older manifests: deployed. */
  priceFeedSource?: 'deployed' | 'external'
}

export async function deployOne (clients: Clients, abi: readonly unknown[], bytecode: Hex, args: readonly unknown[], progress?: (step: string) => void, name = 'a contract'): Promise<{ address: Address, gas: bigint }> {
  progress?.(`deploying ${name}`)
  const hash = await clients.wallet.deployContract({ abi: abi as never, bytecode, args: args as never })
  const receipt = await waitForReceipt(clients, hash)
  if (receipt.contractAddress === null || receipt.contractAddress === undefined || receipt.status !== 'success') {
    throw new ContractRevertError('contract deployment failed', { details: { hash } })
  }
  return { address: receipt.contractAddress, gas: receipt.gasUsed }
}

/**
 * Deploys the whole contract set to the chain `clients` points at and wires it: the
 * market may lock stakes and slash absent trainers, the stand-in dispute game may
 * hold and resolve jobs. Governance is then handed to `params.governance`.
 */
export async function deploy (clients: Clients, params: DeployParams = {}): Promise<Deployment> {
  const me = clients.account.address
  const governance = params.governance ?? me
  const gas: Record<string, string> = {}
  const token = await deployOne(clients, commonsTokenAbi, commonsTokenBytecode, [params.supply ?? parseEther('1000000000')], params.progress, 'the token')
  const registry = await deployOne(clients, stakeRegistryAbi, stakeRegistryBytecode, [token.address, me, params.unbondingDelay ?? 7n * 24n * 3600n], params.progress, 'the stake registry')
  const market = await deployOne(clients, trainingMarketAbi, trainingMarketBytecode, [token.address, registry.address, me], params.progress, 'the training market')
  const daoFactory = await deployOne(clients, datasetDaoFactoryAbi, datasetDaoFactoryBytecode, [token.address], params.progress, 'the DAO factory')
  const external = feedFor(clients.public.chain.id, params.priceFeed)
  let priceFeed: { address: Address, gas: bigint }
  if (external !== undefined) {
    params.progress?.(`using the price feed at ${external}`)
    priceFeed = { address: (await checkFeed(clients, external)).address, gas: 0n }
  } else {
    const priceUpdaters = params.priceUpdaters ?? defaultFeedUpdaters(me, clients.public.chain.id)
    priceFeed = await deployOne(clients, priceFeedAbi, priceFeedBytecode, [params.priceOperator ?? me, priceUpdaters, FEED_DECIMALS, FEED_DESCRIPTION], params.progress, 'the price feed')
    await startFeed(clients, priceFeed.address, priceUpdaters)
  }
  const provers = []
  for (const [abi, bytecode] of [[elementwiseProverAbi, elementwiseProverBytecode], [reduceProverAbi, reduceProverBytecode], [indexProverAbi, indexProverBytecode], [optimProverAbi, optimProverBytecode]] as const) {
    provers.push((await deployOne(clients, abi, bytecode, [], params.progress, 'a one-step prover')).address)
  }
  const stepVerifier = await deployOne(clients, stepVerifierAbi, stepVerifierBytecode, provers, params.progress, 'the step verifier')
  const disputeGame = await deployOne(clients, disputeGameAbi, disputeGameBytecode, [token.address, market.address, stepVerifier.address, me], params.progress, 'the dispute game')
  const modelFileDisputes = await deployOne(clients, modelFileDisputesAbi, modelFileDisputesBytecode, [market.address], params.progress, 'the model-file disputes')
  const storageMarket = await deployOne(clients, storageMarketAbi, storageMarketBytecode, [token.address, registry.address, params.storageFinality ?? 2, params.storageWindow ?? 32], params.progress, 'the storage market')
  Object.assign(gas, { token: token.gas, registry: registry.gas, market: market.gas, daoFactory: daoFactory.gas, priceFeed: priceFeed.gas, stepVerifier: stepVerifier.gas, disputeGame: disputeGame.gas, modelFileDisputes: modelFileDisputes.gas, storageMarket: storageMarket.gas })

  params.progress?.('wiring: the market may lock and slash stakes, the dispute game may resolve jobs')
  await send(clients, { address: registry.address, abi: stakeRegistryAbi, functionName: 'setLocker', args: [market.address, true] })
  await send(clients, { address: registry.address, abi: stakeRegistryAbi, functionName: 'setSlasher', args: [market.address, true] })
  await send(clients, { address: registry.address, abi: stakeRegistryAbi, functionName: 'setLocker', args: [storageMarket.address, true] })
  await send(clients, { address: registry.address, abi: stakeRegistryAbi, functionName: 'setSlasher', args: [storageMarket.address, true] })
  await send(clients, { address: market.address, abi: trainingMarketAbi, functionName: 'setDisputeGame', args: [disputeGame.address, true] })
  await send(clients, { address: market.address, abi: trainingMarketAbi, functionName: 'setDisputeGame', args: [modelFileDisputes.address, true] })
  if (params.disputeBond !== undefined || params.moveTime !== undefined) {
    const bond = params.disputeBond ?? await clients.public.readContract({ address: disputeGame.address, abi: disputeGameAbi, functionName: 'bond' })
    const moveTime = params.moveTime ?? await clients.public.readContract({ address: disputeGame.address, abi: disputeGameAbi, functionName: 'moveTime' })
    await send(clients, { address: disputeGame.address, abi: disputeGameAbi, functionName: 'setParameters', args: [bond, moveTime] })
  }
  const inference = await deployInference(clients, { registry: registry.address, token: token.address, stepVerifier: stepVerifier.address, treasury: governance }, params, gas)
  if (governance !== me) {
    await send(clients, { address: inference.serviceRegistry, abi: serviceRegistryAbi, functionName: 'transferOwnership', args: [governance] })
    await send(clients, { address: inference.inferenceDisputes, abi: inferenceDisputesAbi, functionName: 'transferOwnership', args: [governance] })
    await send(clients, { address: registry.address, abi: stakeRegistryAbi, functionName: 'transferOwnership', args: [governance] })
    await send(clients, { address: market.address, abi: trainingMarketAbi, functionName: 'transferOwnership', args: [governance] })
    await send(clients, { address: disputeGame.address, abi: disputeGameAbi, functionName: 'transferOwnership', args: [governance] })
  }
  const block = await clients.public.getBlockNumber()
  return {
    chainId: clients.public.chain.id,
    rpcUrl: clients.rpcUrl,
    deployer: me,
    deployedAt: new Date().toISOString(),
    block: block.toString(),
    contracts: {
      token: token.address, registry: registry.address, market: market.address, daoFactory: daoFactory.address,
      priceFeed: priceFeed.address, stepVerifier: stepVerifier.address, disputeGame: disputeGame.address,
      modelFileDisputes: modelFileDisputes.address, storageMarket: storageMarket.address, ...inference
    },
    gas: Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, String(v)])),
    priceFeedSource: external === undefined ? 'deployed' : 'external'
  }
}

/** Writes a deployment manifest atomically. */
export async function writeManifest (path: string, deployment: Deployment): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, JSON.stringify(deployment, null, 2) + '\n')
}

export async function readManifest (path: string): Promise<Deployment> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Deployment
  } catch (cause) {
    throw new NotDeployedError(`no deployment manifest at ${path}`, { hint: 'run commons chain deploy first', details: { path }, cause })
  }
}

/** Checks that every contract of a manifest has code on the chain `clients` reaches. */
export async function checkDeployment (clients: Clients, deployment: Deployment): Promise<void> {
  for (const [name, address] of Object.entries(deployment.contracts)) {
    const code = await clients.public.getCode({ address })
    if (code === undefined || code === '0x') {
      throw new NotDeployedError(`${name} has no code at ${address} on ${clients.rpcUrl}`, {
        hint: 'the chain was reset or this is another chain; run commons chain deploy again', details: { name, address }
      })
    }
  }
}

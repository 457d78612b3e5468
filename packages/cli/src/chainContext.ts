import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { createPublicClient, http, isAddress, type Address, type Hex } from 'viem'
import {
  checkDeployment, connect, devnetAccount, InvalidChainInputError, listDaos, readManifest, ChainUnreachableError,
  type Clients, type Deployment
} from '@commons/chain/core'
import { defaultHome } from '@commons/store/home'
import type { GlobalOptions } from './output.ts'

/** Options of every command that talks to a chain. */
export interface ChainOptions extends GlobalOptions {
  rpc?: string
  key?: string
  /** An encrypted keystore file (Web3 Secret Storage) to sign with; its password from $COMMONS_PASSWORD or the terminal. */
  keystore?: string
  account?: number
  /** Blocks past the mining one to wait for before acting on a transaction. */
  confirmations?: number
}

export interface DevnetRecord {
  rpcUrl: string
  pid: number
  port: number
  startedAt: string
}

export const homeOf = (options: GlobalOptions): string => resolve(options.home ?? defaultHome())
export const devnetFile = (options: GlobalOptions): string => join(homeOf(options), 'chain', 'devnet.json')
/** The manifest of the home's latest deployment, whatever its chain (what nodes and older homes read). */
export const manifestFile = (options: GlobalOptions): string => join(homeOf(options), 'chain', 'deployment.json')
/** The manifest of the home's deployment on one chain: a home can hold a deployment per chain. */
export const chainManifestFile = (options: GlobalOptions, chainId: number): string => join(homeOf(options), 'chain', 'deployments', `${chainId}.json`)

/**
 * The home's deployment on the chain `clients` reaches: its per-chain manifest, else
 * the latest manifest (homes deployed before manifests were kept per chain).
 */
export async function manifestOf (options: GlobalOptions, chainId: number): Promise<{ path: string, deployment: Deployment }> {
  const own = chainManifestFile(options, chainId)
  if (existsSync(own)) return { path: own, deployment: await readManifest(own) }
  return { path: manifestFile(options), deployment: await readManifest(manifestFile(options)) }
}

/** The id of the chain at `rpcUrl`: a node takes the home's deployment on that chain. */
export async function chainIdAt (rpcUrl: string): Promise<number> {
  try {
    return await createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) }).getChainId()
  } catch (cause) {
    throw new ChainUnreachableError(`no chain answers at ${rpcUrl}`, { hint: 'start one with commons chain up --detach, or pass --rpc URL', cause })
  }
}

export async function readDevnet (options: GlobalOptions): Promise<DevnetRecord | null> {
  try {
    return JSON.parse(await readFile(devnetFile(options), 'utf8')) as DevnetRecord
  } catch {
    return null
  }
}

export async function writeDevnet (options: GlobalOptions, record: DevnetRecord): Promise<void> {
  await writeFileAtomic(devnetFile(options), JSON.stringify(record, null, 2) + '\n')
}

export async function forgetDevnet (options: GlobalOptions): Promise<void> {
  await rm(devnetFile(options), { force: true })
}

/** The RPC to use: --rpc, else the home's devnet. */
export async function rpcOf (options: ChainOptions): Promise<string> {
  if (options.rpc !== undefined) return options.rpc
  const devnet = await readDevnet(options)
  if (devnet === null) {
    throw new ChainUnreachableError(`no chain configured for ${homeOf(options)}`, { hint: 'start a local one with commons chain up --detach, or pass --rpc URL' })
  }
  return devnet.rpcUrl
}

/**
 * Connects as --key (or $COMMONS_KEY); on a local devnet (chain 31337) without a key,
 * as development account --account (default 0).
 */
export async function clientsOf (options: ChainOptions): Promise<Clients> {
  const rpcUrl = await rpcOf(options)
  const settings = { confirmations: options.confirmations }
  if (options.key === undefined && options.keystore !== undefined) return connect(rpcUrl, await keystoreKey(options.keystore), settings)
  const key = options.key ?? process.env.COMMONS_KEY
  if (key !== undefined) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new InvalidChainInputError('the key must be 32 bytes of hex, 0x-prefixed', { hint: 'pass --key 0x... or set COMMONS_KEY' })
    return connect(rpcUrl, key as Hex, settings)
  }
  const clients = await connect(rpcUrl, devnetAccount(options.account ?? 0), settings)
  if (clients.public.chain.id !== 31337) {
    throw new InvalidChainInputError(`chain ${clients.public.chain.id} is not a local devnet: a key is needed`, { hint: 'pass --key 0x... or set COMMONS_KEY' })
  }
  return clients
}

/** The key of an existing keystore file (never a new one: a typo must not sign with a fresh, empty account). */
async function keystoreKey (path: string): Promise<Hex> {
  if (!existsSync(path)) throw new InvalidChainInputError(`there is no keystore at ${path}`, { hint: 'pass the path of a Web3 Secret Storage (v3) JSON file, or --key' })
  // Loaded here: @commons/node brings libp2p, slow to load for every chain command.
  const { loadOrCreateKey } = await import('@commons/node')
  return (await loadOrCreateKey(path)).privateKey
}

/** Clients plus the deployment of the home on their chain, checked to have code there. */
export async function deploymentOf (options: ChainOptions): Promise<{ clients: Clients, deployment: Deployment }> {
  const clients = await clientsOf(options)
  const { deployment } = await manifestOf(options, clients.public.chain.id)
  await checkDeployment(clients, deployment)
  return { clients, deployment }
}

/** A DAO given by address, or by the name it was created with (the first of that name). */
export async function daoAddress (clients: Clients, deployment: Deployment, ref: string): Promise<Address> {
  if (isAddress(ref)) return ref
  const match = (await listDaos(clients, deployment)).find(d => d.name === ref)
  if (match === undefined) throw new InvalidChainInputError(`no DAO named "${ref}"`, { hint: 'commons dao list shows the DAOs; or pass an address' })
  return match.dao
}

export function parseAccountShares (value: string, previous: Array<{ account: Address, shares: bigint }> = []): Array<{ account: Address, shares: bigint }> {
  const [account, shares] = value.split(':')
  if (!isAddress(account ?? '') || !/^\d+$/.test(shares ?? '')) {
    throw new InvalidChainInputError(`"${value}" is not ADDRESS:SHARES`, { hint: 'for example 0x70997970C51812dc3A010C7d01b50e0d17dc79C8:30' })
  }
  return [...previous, { account: account as Address, shares: BigInt(shares) }]
}

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Abi, Address, Hex } from 'viem'
import { connect, devnetAccount, type Clients } from './clients.ts'
import { startDevnet } from './devnet.ts'

/** A contract deployed on a fresh devnet, for tests that call it directly. */
export interface DeployedForTest {
  clients: Clients
  address: Address
  stop(): Promise<void>
}

/** Starts a devnet in a temporary home and deploys one contract on it. */
export async function deployForTest (abi: Abi, bytecode: Hex): Promise<DeployedForTest> {
  const home = await mkdtemp(join(tmpdir(), 'commons-contract-'))
  const devnet = await startDevnet({ home })
  const clients = await connect(devnet.rpcUrl, devnetAccount(0))
  const hash = await clients.wallet.deployContract({ abi, bytecode, args: [] })
  const address = (await clients.public.waitForTransactionReceipt({ hash })).contractAddress as Address
  return {
    clients,
    address,
    async stop () {
      await devnet.stop()
      await rm(home, { recursive: true, force: true })
    }
  }
}

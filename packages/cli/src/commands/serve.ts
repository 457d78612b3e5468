import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { parseEther, type Hex } from 'viem'
import { cidToHex, commonsTokenAbi, liveServices, readStake, registerAndStake, registerService, send, stakeRegistryAbi, updateService } from '@commons/chain'
import { openStore, exportVersion } from '@commons/store'
import { deploymentOf, homeOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit, note } from '../output.ts'
import { amountOption, collectOption, countOption } from '../inferenceOptions.ts'
import { tokens } from '../revertText.ts'

interface ServeOptions {
  model: string
  price: string
  stake?: string
  httpPort: number
  listen?: string[]
  bootstrap?: string[]
  maxTokens: number
}

/**
 * `commons serve`: the provider role. Serves a run's model for pay over libp2p and an
 * OpenAI-compatible HTTP API, registered in the ServiceRegistry when given a stake;
 * claims its vouchers before their channels expire. Runs until interrupted and then
 * claims what its vouchers hold; the service stays registered (retire it to get the stake back).
 */
export function serveCommand (program: Command): void {
  withChainOptions(program.command('serve'))
    .description('serve a model for pay (libp2p and an OpenAI-compatible HTTP API), with signed receipts; runs until Ctrl-C')
    .requiredOption('--model <run|cid>', 'a run directory (model.safetensors), or the CID of a published run to fetch from --bootstrap peers')
    .requiredOption('--price <tokens>', 'price per 1,000 tokens (prompt and output)', amountOption('--price'))
    .option('--stake <tokens>', 'register the service with this stake in the ServiceRegistry (staked first if needed); a live service of this provider and model is updated instead', amountOption('--stake'))
    .option('--http-port <n>', 'port of the OpenAI-compatible API on 127.0.0.1 (0: any free port)', countOption('--http-port'), 0)
    .option('--listen <multiaddr>', 'libp2p address to listen on (repeatable)', collectOption)
    .option('--bootstrap <multiaddr>', 'peer to connect to, ending in /p2p/<peer id> (repeatable)', collectOption)
    .option('--max-tokens <n>', 'most tokens one request may ask for', countOption('--max-tokens', 1), 1024)
    .action(async (opts: ServeOptions, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const { loadServedModel, peerIdBytes, serveInference, startInferenceHttp, startNetwork, startProvider } = await import('@commons/node')
      const home = homeOf(options)
      const store = await openStore(home)
      const network = await startNetwork({ blockstore: store.blocks, listen: opts.listen, bootstrap: opts.bootstrap })
      let dir = resolve(opts.model)
      let modelCid: Hex = '0x'
      if (!(await stat(dir).then(s => s.isDirectory(), () => false))) {
        modelCid = cidToHex(opts.model)
        note(options, `fetching model ${opts.model} from the network`)
        await network.fetchDag(opts.model, { timeoutMs: 120_000 })
        dir = join(home, 'models', opts.model)
        await exportVersion(store, opts.model, dir)
      }
      const model = await loadServedModel(dir)
      const provider = startProvider({ clients, deployment }, { model, pricePer1k: parseEther(opts.price), home, maxTokens: opts.maxTokens, log: line => { note(options, line) } })
      await serveInference(network, provider, line => { note(options, line) })
      const http = await startInferenceHttp(provider, { port: opts.httpPort })
      const endpoint = [...network.multiaddrs().slice(0, 1), http.url].join(' ')
      let service: bigint | null = null
      const price = parseEther(opts.price)
      // A restart serves the same model again: its live service is updated, not registered twice.
      const mine = (await liveServices(clients, deployment)).find(s => s.provider.toLowerCase() === clients.account.address.toLowerCase() && s.modelRoot.toLowerCase() === model.root.toLowerCase())
      if (mine !== undefined) {
        await updateService(clients, deployment, mine.id, { pricePer1k: price, endpoint })
        service = mine.id
      } else if (opts.stake !== undefined && parseEther(opts.stake) > 0n) {
        const stake = parseEther(opts.stake)
        const record = await readStake(clients, deployment, clients.account.address)
        const free = record.staked - record.locked
        if (free < stake) {
          if (record.staked === 0n) await registerAndStake(clients, deployment, { peerId: peerIdBytes(network.peerId), roles: [], amount: stake })
          else {
            await send(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [deployment.contracts.registry, stake - free] })
            await send(clients, { address: deployment.contracts.registry, abi: stakeRegistryAbi, functionName: 'stake', args: [stake - free] })
          }
        }
        service = await registerService(clients, deployment, { modelRoot: model.root, modelCid, pricePer1k: price, endpoint, stake })
      }
      emit(options, { provider: clients.account.address, service, model: model.name, modelRoot: model.root, pricePer1k: parseEther(opts.price), peerId: network.peerId, multiaddrs: network.multiaddrs(), http: `${http.url}/v1` }, () =>
        [`serving ${model.name} (root ${model.root}) at ${tokens(parseEther(opts.price))} per 1,000 tokens`,
          `  libp2p  ${network.multiaddrs()[0] ?? network.peerId}`, `  OpenAI  ${http.url}/v1`,
          service === null ? '  not registered (pass --stake to list it in the ServiceRegistry)' : `  service ${service} in the ServiceRegistry`].join('\n'))
      await new Promise<void>(resolve => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      note(options, 'stopping: claiming what the vouchers hold')
      await provider.claimAll().catch((error: unknown) => { note(options, `claiming failed: ${(error as Error).message}`) })
      await http.close()
      await provider.stop()
      await network.stop()
      await store.close()
    })
}

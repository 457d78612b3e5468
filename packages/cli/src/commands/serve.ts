import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { parseEther, type Hex } from 'viem'
import { cidToHex, commonsTokenAbi, ensureServicePrograms, ForwardPrograms, liveServices, readStake, registerAndStake, registerService, send, stakeRegistryAbi, updateService, type Clients, type Deployment } from '@commons/chain'
import type { ServedModel } from '@commons/node'
import { openStore } from '@commons/store'
import { runByCid } from '../runByCid.ts'
import { deploymentOf, homeOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit, note, UsageError } from '../output.ts'
import { amountOption, collectOption, portOption, wholeOption } from '../optionParsers.ts'
import { tokens } from '../revertText.ts'

interface ServeOptions {
  model: string
  price: string
  stake?: string
  httpPort: number
  listen?: string[]
  bootstrap?: string[]
  maxTokens: number
  lieOn?: number
  defend: boolean
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
    .option('--http-port <n>', 'port of the OpenAI-compatible API on 127.0.0.1 (0: any free port)', portOption('--http-port'), 0)
    .option('--listen <multiaddr>', 'libp2p address to listen on (repeatable)', collectOption)
    .option('--bootstrap <multiaddr>', 'peer to connect to, ending in /p2p/<peer id> (repeatable)', collectOption)
    .option('--max-tokens <n>', 'most tokens one request may ask for', wholeOption('--max-tokens', { min: 1 }), 1024)
    .option('--no-defend', 'do not answer disputes of this provider\'s receipts (they then lose by timeout)')
    .option('--lie-on <n>', 'a deliberate fault, to see the network catch it: the n-th answer (from 0) has one wrong token', wholeOption('--lie-on'))
    .action(async (opts: ServeOptions, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const { loadServedModel, peerIdBytes, servedStateOf, serveInference, startInferenceHttp, startNetwork, startProvider } = await import('@commons/node')
      const home = homeOf(options)
      let dir = resolve(opts.model)
      let modelCid: Hex = '0x'
      const isDir = await stat(dir).then(s => s.isDirectory(), () => false)
      if (!isDir) {
        try {
          modelCid = cidToHex(opts.model)
        } catch {
          throw new UsageError(`--model ${opts.model} is neither a run directory nor a CID`, { hint: 'pass the --out directory of commons train, or the CID of a published run' })
        }
      }
      const price = parseEther(opts.price)
      // Everything started is stopped again, in reverse, however the command ends.
      const cleanups: Array<() => Promise<void>> = []
      try {
        const store = await openStore(home)
        cleanups.push(async () => store.close())
        const network = await startNetwork({ blockstore: store.blocks, listen: opts.listen, bootstrap: opts.bootstrap })
        cleanups.push(async () => network.stop())
        if (!isDir) dir = await runByCid(opts.model, { store, dir: join(home, 'models'), network: async () => network, log: line => { note(options, line) } })
        const model = await loadServedModel(dir)
        // Disputes of its receipts are answered from the run's last checkpoint (its state root is the model root).
        const defence = opts.defend ? await servedStateOf(dir, model.recipe, model.root).then(state => ({ state }), (error: unknown) => {
          // Weights without their checkpoint serve, but a dispute of their answers cannot be answered: say so.
          note(options, `warning: disputes of this provider's answers will not be answered (${(error as Error).message})`)
          return undefined
        }) : undefined
        const provider = startProvider({ clients, deployment }, {
          model, pricePer1k: price, home, maxTokens: opts.maxTokens, defence, fault: opts.lieOn === undefined ? undefined : { request: opts.lieOn }, log: line => { note(options, line) }
        })
        cleanups.push(async () => provider.stop())
        await serveInference(network, provider, line => { note(options, line) })
        const http = await startInferenceHttp(provider, { port: opts.httpPort })
        cleanups.push(async () => http.close())
        const endpoint = [...network.multiaddrs().slice(0, 1), http.url].join(' ')
        const service = await registerOrUpdate(clients, deployment, { model, modelCid, price, endpoint, stake: opts.stake === undefined ? 0n : parseEther(opts.stake), peerId: peerIdBytes(network.peerId) })
        // The forward programs its answers are disputed by, bound once (clients check the root before paying).
        let programsRoot: Hex | null = null
        if (service !== null) {
          provider.setService(service)
          note(options, 'binding the forward programs of the service (InferenceDisputes)')
          const { referenceContext } = await import('@commons/engine')
          programsRoot = await ensureServicePrograms(clients, deployment, service, new ForwardPrograms(referenceContext(), model.recipe))
        }
        emit(options, { provider: clients.account.address, service, model: model.name, modelRoot: model.root, programsRoot, pricePer1k: price, peerId: network.peerId, multiaddrs: network.multiaddrs(), http: `${http.url}/v1` }, () =>
          [`serving ${model.name} (root ${model.root}) at ${tokens(price)} per 1,000 tokens`,
            `  libp2p  ${network.multiaddrs()[0] ?? network.peerId}`, `  OpenAI  ${http.url}/v1`,
            service === null ? '  not registered (pass --stake to list it in the ServiceRegistry)' : `  service ${service} in the ServiceRegistry`].join('\n'))
        await new Promise<void>(resolve => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
        })
        note(options, 'stopping: claiming what the vouchers hold')
        await provider.claimAll().catch((error: unknown) => { note(options, `claiming failed: ${(error as Error).message}`) })
      } finally {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
      }
    })
}

/**
 * The service of this provider and model: a live one is updated (a restart must not lock
 * stake twice), else one is registered when a stake is given (staked first if needed).
 */
async function registerOrUpdate (clients: Clients, deployment: Deployment, p: { model: ServedModel, modelCid: Hex, price: bigint, endpoint: string, stake: bigint, peerId: Hex }): Promise<bigint | null> {
  const me = clients.account.address.toLowerCase()
  const mine = (await liveServices(clients, deployment)).find(s => s.provider.toLowerCase() === me && s.modelRoot.toLowerCase() === p.model.root.toLowerCase())
  if (mine !== undefined) {
    await updateService(clients, deployment, mine.id, { pricePer1k: p.price, endpoint: p.endpoint })
    return mine.id
  }
  if (p.stake === 0n) return null
  const record = await readStake(clients, deployment, clients.account.address)
  const free = record.staked - record.locked
  if (free < p.stake) {
    if (record.staked === 0n) await registerAndStake(clients, deployment, { peerId: p.peerId, roles: [], amount: p.stake })
    else {
      await send(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [deployment.contracts.registry, p.stake - free] })
      await send(clients, { address: deployment.contracts.registry, abi: stakeRegistryAbi, functionName: 'stake', args: [p.stake - free] })
    }
  }
  return registerService(clients, deployment, { modelRoot: p.model.root, modelCid: p.modelCid, pricePer1k: p.price, endpoint: p.endpoint, stake: p.stake })
}

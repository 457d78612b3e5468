import { mkdir, readFile } from 'node:fs/promises'
import writeFileAtomic from 'write-file-atomic'
import { parseEther } from 'viem'
import { join } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { readManifest } from '@commons/chain/core'
import type { Role } from '@commons/node'
import { chainIdAt, homeOf, manifestFile, manifestOf, rpcOf, type ChainOptions } from '../chainContext.ts'
import { emit, note, UsageError } from '../output.ts'
import { checkApiPort, checkBootstrap, checkListen, checkState, readPasswordFile } from '../nodeChecks.ts'
import { startNodeAgent } from './agentNetwork.ts'
import { amountOption, collectOption, numberOption, portOption, wholeOption } from '../optionParsers.ts'

const ROLES: Role[] = ['requester', 'trainer', 'validator', 'curator', 'storer']

function parseRoles (value: string): Role[] {
  const roles = value.split(',').map(r => r.trim()).filter(r => r !== '')
  const unknown = roles.filter(r => !(ROLES as string[]).includes(r))
  if (roles.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`unknown role "${unknown.join(', ')}"; choose from ${ROLES.join(', ')}`)
  return roles as Role[]
}

const checkSteps = (value: string): number | 'all' => value === 'all' ? 'all' : wholeOption('--check-steps', { what: 'all or a whole number' })(value)

/** What `node start` keeps in `<home>/node/config.json`; flags given on the command line win. */
interface NodeConfig {
  roles: Role[]
  rpc?: string
  listen?: string[]
  bootstrap?: string[]
  apiPort: number
  explorerPort?: number
  checkSteps?: number | 'all'
  checkProbability?: number
  maxChallengeWindow?: number
  maxTrainingTime?: number
  maxSteps?: number
  minReward?: string
  confirmations?: number
  logRange?: number
  backend: string
  threads: number
}

/** The flags of `node start`: the settings, and what is given anew at each start. */
interface StartOptions extends NodeConfig {
  fault?: string
  seed: number
  passwordFile?: string
  stake?: string
}

const CONFIG_KEYS = [
  'roles', 'rpc', 'listen', 'bootstrap', 'apiPort', 'explorerPort', 'checkSteps', 'checkProbability', 'maxChallengeWindow', 'maxTrainingTime',
  'maxSteps', 'minReward', 'confirmations', 'logRange', 'backend', 'threads'
] as const

/**
 * The node's settings: the config file under the home (written on first start with the
 * settings used, for people to edit), overridden by the flags given this time.
 */
async function nodeConfig (home: string, opts: StartOptions & { rpc?: string }, command: Command): Promise<{ config: NodeConfig, save: () => Promise<void> }> {
  const path = join(home, 'node', 'config.json')
  const text = await readFile(path, 'utf8').catch(() => null)
  let saved: Partial<NodeConfig> = {}
  if (text !== null) {
    try {
      saved = JSON.parse(text) as Partial<NodeConfig>
    } catch (cause) {
      throw new UsageError(`${path} is not valid JSON`, { hint: 'fix or delete it; node start writes a fresh one', cause })
    }
  }
  const config: Record<string, unknown> = {}
  for (const key of CONFIG_KEYS) {
    const fromFlag = command.getOptionValueSource(key) === 'cli'
    const value = fromFlag ? (opts as unknown as Record<string, unknown>)[key] : saved[key] ?? (opts as unknown as Record<string, unknown>)[key]
    if (value !== undefined) config[key] = value
  }
  if (saved.roles !== undefined && !fromCli(command, 'roles')) config.roles = parseRoles(saved.roles.join(','))
  const save = async (): Promise<void> => {
    if (text !== null) return
    await mkdir(join(home, 'node'), { recursive: true })
    await writeFileAtomic(path, JSON.stringify(config, null, 2) + '\n')
  }
  return { config: config as unknown as NodeConfig, save }
}

const fromCli = (command: Command, key: string): boolean => command.getOptionValueSource(key) === 'cli'

export function nodeCommand (program: Command): void {
  const node = program.command('node').description('run a Commons node: train, validate, request, with peers over libp2p')

  node.command('start')
    .description('start a node in the home and run until interrupted (Ctrl-C); settings persist in <home>/node/config.json')
    .option('--roles <list>', `comma-separated roles: ${ROLES.join(', ')}`, parseRoles, ['trainer', 'validator'] as Role[])
    .option('--rpc <url>', 'chain RPC (default: the home\'s devnet)')
    .option('--listen <multiaddr>', 'address to listen on (repeatable; default loopback only); "all": every interface on TCP 4001, WebSockets 4002, WebRTC-Direct UDP 4001', collectOption)
    .option('--bootstrap <multiaddr>', 'peer to connect to at start, ending in /p2p/<peer id> (repeatable)', collectOption)
    .option('--api-port <n>', 'port of the HTTP API on 127.0.0.1 (0: any free port)', portOption('--api-port'), 0)
    .option('--explorer-port <n>', 'also serve the explorer on this port of 127.0.0.1 (0: any free port), indexing the chain live and fetching content from peers', portOption('--explorer-port'))
    .option('--fault <spec>', 'train dishonestly on purpose, for testing: step=T,op=I,element=E (parts optional), init, or loss[,step=T]; add ,withhold to publish no trace, ,badtrace to publish one unlike the trace posted, ,hide to serve no run')
    .option('--seed <n>', 'seed that draws the parts of --fault left out', wholeOption('--seed'), 1)
    .option('--check-steps <n|all>', 'validator: steps of each result to replay besides S_0 (default: sized by --check-probability)', checkSteps)
    .option('--check-probability <p>', 'validator: chance that the drawn steps include any one given step (default 0.1)', numberOption('--check-probability', { above: 0, max: 1 }))
    .option('--max-challenge-window <s>', 'trainer: refuse jobs whose challenge window is longer (default 7 days)', wholeOption('--max-challenge-window'))
    .option('--max-training-time <s>', 'trainer: refuse jobs whose claim lasts longer (default 7 days)', wholeOption('--max-training-time'))
    .option('--max-steps <n>', 'trainer: refuse jobs of more steps (default 100,000)', wholeOption('--max-steps'))
    .option('--min-reward <tokens>', 'trainer: refuse jobs paying less (default 1)', amountOption('--min-reward'))
    .option('--confirmations <n>', 'blocks an event must be under before the node acts (default 0; set it on public chains)', wholeOption('--confirmations'))
    .option('--log-range <blocks>', 'most blocks one eth_getLogs may span (default 1,000)', wholeOption('--log-range', { min: 1, what: 'a whole number of blocks' }))
    .option('--stake <tokens>', 'stake to hold in the StakeRegistry (topped up at start)', amountOption('--stake'))
    .option('--password-file <path>', 'file holding the keystore password (default: $COMMONS_PASSWORD)')
    .option('--backend <name>', 'compute backend: auto, native, wasm, reference', 'auto')
    .option('--threads <n>', 'threads for the wasm backend', wholeOption('--threads'), 2)
    .option('--json', 'print the node\'s address, peer id, addresses and API URL as JSON once started')
    .action(async (opts: StartOptions, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const home = homeOf(options)
      const { config, save } = await nodeConfig(home, opts, command)
      // Everything a user typed (or left in node/config.json) is checked before the node
      // starts: a bad value fails by name here, not as a trace from inside libp2p.
      checkApiPort(config.apiPort)
      checkListen((config.listen ?? []).filter(address => address !== 'all'))
      checkBootstrap(config.bootstrap ?? [])
      const password = opts.passwordFile === undefined ? undefined : await readPasswordFile(opts.passwordFile)
      await checkState(home)
      // Loaded once the input is checked (a mistake is told in a fraction of a second):
      // libp2p and Helia take a while to load.
      const { parseFault, startNode, LISTEN_ALL } = await import('@commons/node')
      const { openBackend } = await import('@commons/engine')
      const listen = config.listen?.flatMap(address => address === 'all' ? LISTEN_ALL : [address])
      const fault = opts.fault === undefined ? undefined : parseFault(opts.fault, opts.seed)
      const rpcUrl = config.rpc ?? await rpcOf(options)
      // The home's deployment on the chain the node will use (a home can hold one per chain);
      // a home with none is told so before the chain is asked anything.
      await readManifest(manifestFile(options))
      const { deployment } = await manifestOf(options, await chainIdAt(rpcUrl))
      const backend = openBackend(config.backend, config.threads)
      const started = await startNode({
        home, rpcUrl, deployment, roles: config.roles, engine: backend.ctx, password, listen, bootstrap: config.bootstrap, apiPort: config.apiPort, explorerPort: config.explorerPort,
        fault, checkSteps: config.checkSteps, checkProbability: config.checkProbability,
        policy: {
          ...(config.maxChallengeWindow === undefined ? {} : { maxChallengeWindow: BigInt(config.maxChallengeWindow) }),
          ...(config.maxTrainingTime === undefined ? {} : { maxTrainingTime: BigInt(config.maxTrainingTime) }),
          ...(config.maxSteps === undefined ? {} : { maxSteps: config.maxSteps }),
          ...(config.minReward === undefined ? {} : { minReward: parseEther(config.minReward) })
        },
        confirmations: config.confirmations,
        logRange: config.logRange,
        stake: opts.stake === undefined ? undefined : parseEther(opts.stake),
        log: line => { note(options, line) }
      })
      await save()
      const agent = await startNodeAgent(home, started, line => { note(options, line) })
      emit(options, { address: started.address, peerId: started.peerId, multiaddrs: started.network.multiaddrs(), api: started.api?.url ?? null, explorer: started.explorer?.url ?? null }, () => '')
      await new Promise<void>(resolve => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      note(options, 'stopping the node')
      await agent.stop()
      await started.stop()
      await backend.close()
    })

  node.command('status')
    .description('what the node in the home has done: its jobs, runs and disputes (works while it is stopped)')
    .option('--json', 'print as JSON')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { NodeState } = await import('@commons/node/state')
      const home = homeOf(options)
      const keystore = await readFile(join(home, 'node', 'keystore.json'), 'utf8').then(t => JSON.parse(t) as { address?: string }, () => null)
      if (keystore === null) throw new UsageError(`no node in ${home}`, { hint: 'start one with commons node start' })
      await checkState(home)
      const state = new NodeState(join(home, 'node', 'state.db'))
      try {
        const status = { address: keystore.address === undefined ? null : `0x${keystore.address.replace(/^0x/, '')}`, jobs: state.jobs(), runs: state.runs(), disputes: state.disputes() }
        emit(options, status, () => [
          `node ${status.address ?? '(unknown address)'} in ${home}`,
          `jobs: ${status.jobs.map(j => `${j.jobId} ${j.role} ${j.status}`).join('; ') || 'none'}`,
          `runs: ${status.runs.map(r => `${r.jobId} ${r.status} step ${r.step}`).join('; ') || 'none'}`,
          `disputes: ${status.disputes.map(d => `${d.id} (job ${d.jobId}) ${d.role} ${d.status}`).join('; ') || 'none'}`
        ].join('\n'))
      } finally {
        state.close()
      }
    })
}

import type { Command } from 'commander'
import type { A2aCard, AgentCards, SeenAgent, TaskAnswerer, TaskResult, ToolContext } from '@commons/agent'
import { homeOf, type ChainOptions } from '../chainContext.ts'
import { collectOption, portOption, wholeOption } from '../optionParsers.ts'
import { emit, note } from '../output.ts'
import { agentPeerKey, readSeenAgents, withHomeAgents, writeSeenAgents } from './agentNetwork.ts'
import { withChainOptions } from './chain.ts'
import { homeToolContext } from './mcp.ts'

interface ServeOptions extends ChainOptions {
  name?: string
  model?: string
  listen?: string[]
  bootstrap?: string[]
  httpPort: number
  interval: number
  shareKnowledge: boolean
}

export interface AskRemoteOptions extends ChainOptions {
  to: string
  bootstrap?: string[]
}

/** What `serve --model` answers with: the agent of the home (opened by agent.ts). */
export type OpenAnswerer = (options: ServeOptions, ctx: ToolContext) => Promise<{ answer: TaskAnswerer, close: () => Promise<void> }>

const MODEL_SKILL: A2aCard['skills'][number] = {
  id: 'commons', name: 'Commons questions', description: 'Answers with a local model using the node\'s tools: price feed, datasets, jobs, DAO proposals, shared notes.', tags: ['price', 'datasets', 'jobs', 'dao'], examples: ['What is the ETH price now?', 'Which dataset was job 0 trained on?']
}

const agentLine = (a: SeenAgent): string => `${a.name.padEnd(16)} ${a.peerId}  ${a.address}  [${a.skills.join(', ')}]  seen ${a.seen}\n  ${a.description}${a.endpoints.map(e => `\n  ${e}`).join('')}`

/** `commons agent serve`, `commons agent list`. */
export function agentA2aCommands (agent: Command, openAnswerer: OpenAnswerer): void {
  withChainOptions(agent.command('serve'))
    .description('publish this agent\'s A2A card over gossip, answer other agents\' tasks over libp2p and A2A\'s HTTP binding, keep the cards seen; runs until Ctrl-C')
    .option('--name <name>', 'the agent\'s name on its card (default: the account\'s address)')
    .option('--model <gguf>', 'answer with this model and the node\'s tools (default: from the shared notes only, citing them)')
    .option('--listen <multiaddr>', 'libp2p address to listen on (repeatable)', collectOption)
    .option('--bootstrap <multiaddr>', 'peer to connect to, ending in /p2p/<peer id> (repeatable)', collectOption)
    .option('--http-port <n>', 'port of the A2A HTTP binding on 127.0.0.1 (0: any free port)', portOption('--http-port'), 0)
    .option('--interval <s>', 'seconds between announcements of the card and of the notes held', wholeOption('--interval', { min: 1 }), 30)
    .option('--no-share-knowledge', 'neither announce this home\'s notes nor take in the notes other nodes announce')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ServeOptions>()
      const home = homeOf(options)
      const { KNOWLEDGE_SKILL, liveReach, startA2a } = await import('@commons/agent')
      const { startNetwork } = await import('@commons/node')
      const cleanups: Array<() => Promise<void>> = []
      try {
        const base = await homeToolContext(options)
        cleanups.push(async () => base.close())
        const account = await base.signer()
        const store = await base.store()
        const network = await startNetwork({ blockstore: store.blocks, privateKey: await agentPeerKey(home), listen: options.listen, bootstrap: options.bootstrap })
        cleanups.push(async () => network.stop())
        const log = (line: string): void => { note(options, line) }
        const late: { cards?: AgentCards } = {}
        let answer: TaskAnswerer | undefined
        if (options.model !== undefined) {
          // The model's own agent_ask reaches the agents this process sees; closed by the
          // cleanups above, after the network, not by the session.
          const ctx: ToolContext = { ...base, agents: async () => liveReach(network, late.cards!), close: async () => {} }
          const opened = await openAnswerer(options, ctx)
          cleanups.push(opened.close)
          answer = opened.answer
        }
        const save = (agents: SeenAgent[]): void => { writeSeenAgents(home, agents).catch((error: unknown) => { log(`could not save the agents seen: ${(error as Error).message}`) }) }
        const a2a = await startA2a({
          network, store, account, name: options.name ?? account.address, answer, skills: answer === undefined ? [KNOWLEDGE_SKILL] : [MODEL_SKILL, KNOWLEDGE_SKILL],
          httpPort: options.httpPort, intervalMs: options.interval * 1000, shareKnowledge: options.shareKnowledge, onAgents: save, log
        })
        late.cards = a2a.cards
        cleanups.push(async () => a2a.stop())
        const { card, http } = a2a
        emit(options, { name: card.name, peerId: network.peerId, address: account.address, multiaddrs: network.multiaddrs(), http: http.url, card: http.origin + '/.well-known/agent-card.json' }, () =>
          [`agent ${card.name} (${account.address})`, `  libp2p  ${network.multiaddrs()[0] ?? network.peerId}`, `  A2A     ${http.url}`, `  card    ${http.origin}/.well-known/agent-card.json`].join('\n'))
        await new Promise<void>(resolve => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
        })
      } finally {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
      }
    })

  agent.command('list')
    .description('the other agents seen over gossip by commons agent serve on this home')
    .option('--json', 'print the result as JSON')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const agents = await readSeenAgents(homeOf(options))
      emit(options, agents.map(({ card: _card, ...a }) => a), () => agents.length === 0 ? 'no agents seen yet: run commons agent serve (with --bootstrap to a peer), and give cards a few seconds to arrive' : agents.map(agentLine).join('\n'))
    })
}

/** `commons agent ask --to PEER`: the question as an A2A task to another agent; its answer streams to stdout. */
export async function askRemote (options: AskRemoteOptions, question: string): Promise<void> {
  const home = homeOf(options)
  const ctx = await withHomeAgents(await homeToolContext(options), home, options.bootstrap)
  try {
    const onText = options.json === true ? undefined : (text: string) => { process.stdout.write(text) }
    let result: TaskResult & { agent: string, peerId: string }
    if (options.to.startsWith('/')) {
      // A multiaddr: no card needed.
      const { askAgent } = await import('@commons/agent')
      const { startNetwork } = await import('@commons/node')
      const network = await startNetwork({ blockstore: (await ctx.store()).blocks })
      try {
        const peerId = options.to.split('/p2p/').at(-1) ?? options.to
        result = { agent: peerId, peerId, ...await askAgent(network, options.to, question, { onText, onState: s => { note(options, `[${s}]`) } }) }
      } finally {
        await network.stop()
      }
    } else {
      result = await (await ctx.agents!()).ask(options.to, question, { onText })
    }
    if (options.json !== true) process.stdout.write('\n')
    emit(options, { agent: result.agent, peerId: result.peerId, taskId: result.taskId, state: result.state, answer: result.text, cites: result.cites, states: result.states },
      () => `${result.state === 'canceled' ? '[canceled]\n' : ''}${result.cites.length === 0 ? '' : `cites: ${result.cites.join(', ')}`}`.trim())
  } finally {
    await ctx.close()
  }
}

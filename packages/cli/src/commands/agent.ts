import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import type { Agent, AgentAnswer, Conversations, McpClientTools, ToolContext } from '@commons/agent'
import { homeOf, type ChainOptions } from '../chainContext.ts'
import { emit, note, UsageError } from '../output.ts'
import { withChainOptions } from './chain.ts'
import { homeToolContext } from './mcp.ts'
import { withHomeAgents } from './agentNetwork.ts'
import { agentA2aCommands, askRemote } from './agentServe.ts'
import { collectOption } from '../optionParsers.ts'
import { wholeOption } from '../optionParsers.ts'

interface AgentOptions extends ChainOptions {
  model?: string
  yes?: boolean
  threads?: number
  maxTokens?: number
  continue?: number
  to?: string
  bootstrap?: string[]
}

function agentOptions (command: Command): Command {
  return withChainOptions(command)
    .option('--model <gguf|cid>', 'GGUF model file, or the CID of a Commons run (fetched from the network if not held, exported once to <home>/agent/models) (default: "model" in <home>/settings.json)')
    .option('--yes', 'let tools that sign or spend run without asking (knowledge_put, external tools not marked read-only)')
    .option('--threads <n>', 'CPU threads for llama.cpp (default: cores - 1)', wholeOption('--threads', { min: 1 }))
    .option('--max-tokens <n>', 'tokens the model may write per answer (default 512)', wholeOption('--max-tokens', { min: 1 }))
    .option('--continue <id>', 'continue a saved conversation (commons agent history lists them)', wholeOption('--continue', { min: 1 }))
}

interface Session {
  agent: Agent
  conversations: Conversations
  conversation: number
  external: McpClientTools
  close: () => Promise<void>
}

/**
 * The agent of this home: its model, the node's tools and the external MCP servers of
 * its settings, and the conversation it writes to. `ask` asks before a signing tool runs.
 */
async function openSession (options: AgentOptions, confirm: (question: string) => Promise<boolean>, given?: ToolContext): Promise<Session> {
  // Loaded here, not at start-up: node-llama-cpp alone takes ~0.7 s to import.
  const { checkGguf, isModelCid, commonsAgentTools, commonsTools, connectMcpServers, Conversations, conversationsFile, ModelFileError, openAgent, readAgentSettings, settingsFile } = await import('@commons/agent')
  const home = homeOf(options)
  const settings = await readAgentSettings(home)
  const modelPath = options.model ?? settings.model
  if (modelPath === undefined) {
    throw new ModelFileError('no model given', { hint: `pass --model FILE.gguf, or set "model" in ${settingsFile(home)}` })
  }
  const modelFile = isModelCid(modelPath) ? await modelOfRun(options, home, modelPath) : resolve(modelPath)
  // Before any MCP server is started for nothing.
  await checkGguf(modelFile)
  const conversations = new Conversations(conversationsFile(home))
  // A conversation that outgrew its context continues from its summary and the turns after it.
  const resumed = options.continue === undefined ? undefined : conversations.resume(options.continue)
  if (resumed === null) {
    conversations.close()
    throw new UsageError(`there is no conversation ${options.continue}`, { hint: 'commons agent history lists them' })
  }
  // Other agents are in reach through the cards `commons agent serve` keeps on this home.
  const ctx = given ?? await withHomeAgents(await homeToolContext(options), home)
  const external = await connectMcpServers(settings.mcpServers ?? {}, commonsTools.map(t => t.name))
  for (const f of external.failed) note(options, `warning: MCP server "${f.server}" is left out: ${f.error}`)
  note(options, `loading ${modelPath}...`)
  let agent: Agent
  try {
    agent = await openAgent({
      modelPath: modelFile,
      tools: [...commonsAgentTools(commonsTools, ctx), ...external.tools],
      allowSigning: options.yes === true,
      threads: options.threads,
      maxTokens: options.maxTokens,
      history: resumed?.turns,
      summary: resumed?.summary,
      memory: { onSummary: (summary) => { conversations.saveSummary(conversation, summary) } },
      confirm: async (call) => confirm(`allow ${call.name} ${JSON.stringify(call.arguments)}? [y/N] `)
    })
  } catch (error) {
    await external.close()
    await ctx.close()
    conversations.close()
    throw error
  }
  const conversation = options.continue ?? conversations.start(agent.model)
  return {
    agent,
    conversations,
    conversation,
    external,
    close: async () => {
      await agent.close()
      await external.close()
      await ctx.close()
      conversations.close()
    }
  }
}

/** The GGUF of the run `cid`: this home's, or fetched through a network of this process's own (`--bootstrap`). */
async function modelOfRun (options: AgentOptions, home: string, cid: string): Promise<string> {
  const [{ modelByCid }, { openStore }, { startNetwork }] = await Promise.all([import('@commons/agent'), import('@commons/store'), import('@commons/node')])
  const store = await openStore(home)
  let network: Awaited<ReturnType<typeof startNetwork>> | undefined
  try {
    return await modelByCid(cid, {
      store, dir: join(home, 'agent', 'models'), log: line => { note(options, line) },
      network: async () => (network ??= await startNetwork({ blockstore: store.blocks, bootstrap: options.bootstrap ?? [] }))
    })
  } finally {
    await network?.stop()
    await store.close()
  }
}

/** Asks, saves both turns, and returns the answer. */
async function turn (session: Session, question: string, onText?: (text: string) => void, signal?: AbortSignal): Promise<AgentAnswer> {
  const answer = await session.agent.ask(question, { onText, signal })
  session.conversations.append(session.conversation, { role: 'user', text: question, toolCalls: [] })
  session.conversations.append(session.conversation, { role: 'model', text: answer.answer, toolCalls: answer.toolCalls })
  return answer
}

const callLine = (c: AgentAnswer['toolCalls'][number]): string =>
  `  [${c.name} ${JSON.stringify(c.arguments)}: ${c.isError ? `error: ${String((c.result as { error?: string }).error ?? '')}` : 'ok'}]`

interface Lines {
  /** Writes `prompt` and resolves with the next line, or null once the input has ended. */
  next: (prompt: string) => Promise<string | null>
  /** Called on Ctrl-C instead of closing the input, while set. */
  onInterrupt: (() => void) | null
  close: () => void
}

/**
 * Lines of stdin, queued: readline's question() drops the lines that arrive before it is
 * called, so piped input (a script feeding chat) would be lost.
 */
function lines (output: NodeJS.WritableStream): Lines {
  const rl = createInterface({ input: process.stdin, terminal: process.stdin.isTTY === true, output: process.stdin.isTTY === true ? output : undefined })
  const queued: string[] = []
  const waiting: Array<(line: string | null) => void> = []
  let ended = false
  rl.on('line', line => { const w = waiting.shift(); if (w !== undefined) w(line); else queued.push(line) })
  rl.on('close', () => { ended = true; for (const w of waiting.splice(0)) w(null) })
  const result: Lines = {
    onInterrupt: null,
    next: async (prompt) => {
      output.write(prompt)
      const line = queued.shift()
      if (line !== undefined) return line
      if (ended) return null
      return new Promise(resolve => { waiting.push(resolve) })
    },
    close: () => { rl.close() }
  }
  // Ctrl-C stops the answer being written; at the prompt it ends the chat (readline's
  // default would only pause the input, leaving the process waiting).
  rl.on('SIGINT', () => { if (result.onInterrupt !== null) result.onInterrupt(); else rl.close() })
  return result
}

/** A yes from the user; no terminal (or no answer) is a no. */
async function confirmed (input: Lines | null, question: string): Promise<boolean> {
  return /^y(es)?$/i.test((await input?.next(question) ?? '').trim())
}

export function agentCommand (program: Command): void {
  const agent = program.command('agent').description('the node\'s agent: a local GGUF model using the node\'s tools and external MCP servers')

  agentOptions(agent.command('ask').argument('<question>', 'what to ask'))
    .description('ask one question; prints the answer (--json: {answer, toolCalls, model, tokens}); --to asks another node\'s agent instead (--json: {agent, taskId, state, answer, cites})')
    .option('--to <agent>', 'ask another node\'s agent over libp2p: its name or peer id (commons agent list), or a multiaddr ending in /p2p/<peer id>')
    .option('--bootstrap <multiaddr>', 'peer to connect to first: for --to, or to fetch a --model CID (repeatable)', collectOption)
    .action(async (question: string, _opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<AgentOptions>()
      if (options.to !== undefined) {
        await askRemote({ ...options, to: options.to }, question)
        return
      }
      // Only a terminal can answer a confirmation; piped stdin is not read.
      const input = process.stdin.isTTY ? lines(process.stderr) : null
      const session = await openSession(options, async q => confirmed(input, q))
      try {
        const answer = await turn(session, question)
        emit(options, {
          answer: answer.answer, toolCalls: answer.toolCalls.map(c => ({ name: c.name, arguments: c.arguments, result: c.result })),
          model: answer.model, tokens: answer.tokens, conversation: session.conversation
        }, () => answer.answer.trim())
        if (options.json !== true) for (const c of answer.toolCalls) process.stderr.write(`${callLine(c)}\n`)
      } finally {
        input?.close()
        await session.close()
      }
    })

  agentOptions(agent.command('chat'))
    .description('talk with the agent (answers stream as they are written); /new starts over, /exit or Ctrl-D ends')
    .option('--bootstrap <multiaddr>', 'peer to connect to first, to fetch a --model CID (repeatable)', collectOption)
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<AgentOptions>()
      const input = lines(process.stdout)
      const session = await openSession(options, async q => confirmed(input, q))
      try {
        process.stderr.write(`conversation ${session.conversation} with ${session.agent.model}; /new starts over, /exit ends\n`)
        for (;;) {
          const line = (await input.next('> '))?.trim()
          if (line === undefined || line === '/exit') break
          if (line === '') continue
          if (line === '/new') {
            session.agent.reset()
            session.conversation = session.conversations.start(session.agent.model)
            process.stderr.write(`conversation ${session.conversation}\n`)
            continue
          }
          const stop = new AbortController()
          input.onInterrupt = () => { stop.abort() }
          let answer: AgentAnswer
          try {
            answer = await turn(session, line, text => { process.stdout.write(text) }, stop.signal)
          } finally {
            input.onInterrupt = null
          }
          process.stdout.write(stop.signal.aborted ? ' [stopped]\n' : '\n')
          for (const c of answer.toolCalls) process.stderr.write(`${callLine(c)}\n`)
        }
      } finally {
        input.close()
        await session.close()
      }
    })

  agentA2aCommands(agent, async (options, ctx) => {
    const session = await openSession(options, async () => false, ctx)
    const { agentAnswerer } = await import('@commons/agent')
    return { answer: agentAnswerer(session.agent), close: session.close }
  })

  agent.command('history')
    .description('the saved conversations of this home, or the turns of one')
    .argument('[id]', 'a conversation id', wholeOption('id', { min: 1 }))
    .option('--json', 'print the result as JSON')
    .action(async (id: number | undefined, _opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { Conversations, conversationsFile } = await import('@commons/agent')
      const conversations = new Conversations(conversationsFile(homeOf(options)))
      try {
        if (id === undefined) {
          const list = conversations.list()
          emit(options, list, () => list.length === 0 ? 'no conversations yet; run commons agent chat' : list.map(c => `${String(c.id).padStart(4)}  ${c.started}  ${c.model}  ${c.turns} turns  ${c.title}`).join('\n'))
          return
        }
        const turns = conversations.turns(id)
        if (turns === null) throw new UsageError(`there is no conversation ${id}`, { hint: 'commons agent history lists them' })
        emit(options, turns, () => turns.map(t => `${t.role === 'user' ? '>' : ' '} ${t.text}${t.toolCalls.map(c => `\n${callLine(c)}`).join('')}`).join('\n'))
      } finally {
        conversations.close()
      }
    })
}

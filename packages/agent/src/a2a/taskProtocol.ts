import { randomUUID } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { errorText } from '../callTool.ts'
import { A2A_PROTOCOL } from './card.ts'
import { AgentTaskError, AgentUnreachableError } from './errors.ts'
import type { A2aNetwork } from './network.ts'

/** A2A's task lifecycle. */
export type TaskState = 'submitted' | 'working' | 'input-required' | 'completed' | 'failed' | 'canceled'

/**
 * The wire of A2A over libp2p: one stream per task, length-prefixed JSON both ways.
 * The client sends the question, then `input` (when the task asks for it) or `cancel`;
 * the server sends status updates through the lifecycle and the answer as artifact
 * chunks as it is written, ending with one of completed, failed or canceled.
 */
export type ClientMessage = { kind: 'send', messageId: string, text: string } | { kind: 'input', text: string } | { kind: 'cancel' }
export type ServerMessage =
  | { kind: 'status', taskId: string, state: TaskState, text?: string, cites?: string[], error?: string }
  | { kind: 'artifact', taskId: string, text: string, append: boolean }

/** What a task asks of the agent that answers it. */
export interface TaskIo {
  onText: (text: string) => void
  /** Puts the task in input-required with `prompt` and resolves with the client's reply. */
  requestInput: (prompt: string) => Promise<string>
  signal: AbortSignal
}

/** The answering side of a task: the node's agent, or its knowledge (answerers.ts). */
export type TaskAnswerer = (question: string, io: TaskIo) => Promise<{ text: string, cites: string[] }>

const MAX_MESSAGE = 1 << 20
const encode = (value: ClientMessage | ServerMessage): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
const decode = (bytes: { subarray: () => Uint8Array }): unknown => JSON.parse(new TextDecoder().decode(bytes.subarray()))

/** Serves `answer` on the A2A protocol of `network`. */
export async function serveTasks (network: A2aNetwork, answer: TaskAnswerer, log: (line: string) => void = () => {}): Promise<void> {
  await network.handle(A2A_PROTOCOL, async (stream: Stream, from: string) => { await runTask(stream, answer, from, log) })
}

async function runTask (stream: Stream, answer: TaskAnswerer, from: string, log: (line: string) => void): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
  const taskId = randomUUID()
  const send = async (m: ServerMessage): Promise<void> => { await lp.write(encode(m)) }
  const cancel = new AbortController()
  // Set while the task waits in input-required.
  const waiting: { input: ((text: string) => void) | null } = { input: null }
  try {
    const first = decode(await lp.read()) as Partial<Extract<ClientMessage, { kind: 'send' }>>
    if (first.kind !== 'send' || typeof first.text !== 'string' || first.text.length === 0) {
      await send({ kind: 'status', taskId, state: 'failed', error: 'TaskRequestError', text: 'the first message of a task must be {kind: "send", text}' })
      return
    }
    await send({ kind: 'status', taskId, state: 'submitted' })
    // The client may cancel, or answer an input-required, while the task runs.
    void (async () => {
      for (;;) {
        const m = decode(await lp.read()) as ClientMessage
        if (m.kind === 'cancel') cancel.abort()
        else if (m.kind === 'input') waiting.input?.(m.text)
      }
    })().catch(() => { cancel.abort() })
    await send({ kind: 'status', taskId, state: 'working' })
    let sent = false
    const pending: Array<Promise<void>> = []
    const result = await answer(first.text, {
      signal: cancel.signal,
      onText: text => { pending.push(send({ kind: 'artifact', taskId, text, append: sent })); sent = true },
      requestInput: async prompt => {
        const reply = new Promise<string>((resolve, reject) => {
          waiting.input = resolve
          cancel.signal.addEventListener('abort', () => { reject(cancel.signal.reason) }, { once: true })
        })
        await send({ kind: 'status', taskId, state: 'input-required', text: prompt })
        const text = await reply
        waiting.input = null
        await send({ kind: 'status', taskId, state: 'working' })
        return text
      }
    })
    await Promise.all(pending)
    await send(cancel.signal.aborted ? { kind: 'status', taskId, state: 'canceled' } : { kind: 'status', taskId, state: 'completed', text: result.text, cites: result.cites })
  } catch (error) {
    const e = errorText(error)
    if (cancel.signal.aborted) await send({ kind: 'status', taskId, state: 'canceled' }).catch(() => {})
    else {
      log(`A2A task from ${from}: ${e.text}`)
      await send({ kind: 'status', taskId, state: 'failed', error: e.name, text: e.text }).catch(() => {})
    }
  } finally {
    await stream.close().catch(() => {})
  }
}

export interface AskOptions {
  /** The answer's text as it streams. */
  onText?: (text: string) => void
  /** Each lifecycle state as the task reaches it. */
  onState?: (state: TaskState, text?: string) => void
  /** Answers an input-required; without it such a task is canceled. */
  onInputRequired?: (prompt: string) => Promise<string>
  signal?: AbortSignal
}

export interface TaskResult {
  taskId: string
  state: 'completed' | 'canceled'
  text: string
  cites: string[]
  /** The states the task went through, in order. */
  states: TaskState[]
}

/** Sends `question` to the agent at `peer` (a multiaddr, or the id of a connected peer) as an A2A task. */
export async function askAgent (network: A2aNetwork, peer: string, question: string, options: AskOptions = {}): Promise<TaskResult> {
  let stream: Stream
  try {
    stream = await network.dialProtocol(peer, A2A_PROTOCOL)
  } catch (cause) {
    throw new AgentUnreachableError(`the agent at ${peer} cannot be reached`, { hint: 'its node may be down: commons agent list shows the agents seen lately; try another', details: { peer }, cause })
  }
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
  const states: TaskState[] = []
  let streamed = ''
  let taskId = ''
  const onAbort = (): void => { void lp.write(encode({ kind: 'cancel' })).catch(() => {}) }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await lp.write(encode({ kind: 'send', messageId: randomUUID(), text: question }))
    for (;;) {
      let m: ServerMessage
      try {
        m = decode(await lp.read()) as ServerMessage
      } catch (cause) {
        throw new AgentTaskError(`the agent at ${peer} broke off task ${taskId || '(not started)'} in state ${states.at(-1) ?? 'none'}`, { hint: 'its node may have stopped; ask again or ask another agent', details: { peer, taskId, states }, cause })
      }
      taskId = m.taskId
      if (m.kind === 'artifact') {
        streamed = m.append ? streamed + m.text : m.text
        options.onText?.(m.text)
        continue
      }
      states.push(m.state)
      options.onState?.(m.state, m.text)
      if (m.state === 'input-required') {
        if (options.onInputRequired === undefined) await lp.write(encode({ kind: 'cancel' }))
        else await lp.write(encode({ kind: 'input', text: await options.onInputRequired(m.text ?? '') }))
      } else if (m.state === 'completed') {
        return { taskId, state: 'completed', text: m.text ?? streamed, cites: m.cites ?? [], states }
      } else if (m.state === 'canceled') {
        return { taskId, state: 'canceled', text: streamed, cites: [], states }
      } else if (m.state === 'failed') {
        throw new AgentTaskError(`the agent at ${peer} failed task ${taskId}: ${m.text ?? m.error ?? ''}`, { hint: 'the remote agent\'s error is in details.error', details: { peer, taskId, error: m.error, states } })
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    await stream.close().catch(() => {})
  }
}

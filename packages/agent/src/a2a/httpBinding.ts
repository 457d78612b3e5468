import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { Role, TaskState, type AgentCard, type Message, type Part } from '@a2a-js/sdk'
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server'
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express'
import { errorText } from '../callTool.ts'
import type { A2aCard } from './card.ts'
import type { TaskAnswerer } from './taskProtocol.ts'

/** Where the JSON-RPC endpoint is mounted; the card is at /.well-known/agent-card.json. */
export const A2A_HTTP_PATH = '/a2a/jsonrpc'

const textPart = (text: string): Part => ({ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' })

function agentMessage (text: string, taskId: string, contextId: string, metadata?: Record<string, unknown>): Message {
  return { messageId: randomUUID(), contextId, taskId, role: Role.ROLE_AGENT, parts: [textPart(text)], metadata, extensions: [], referenceTaskIds: [] }
}

/** A Commons card in the SDK's shape, its first interface the JSON-RPC endpoint at `url`. */
export function sdkCard (card: A2aCard, url: string): AgentCard {
  return {
    name: card.name,
    description: card.description,
    version: card.version,
    supportedInterfaces: [{ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    provider: undefined,
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: card.defaultInputModes,
    defaultOutputModes: card.defaultOutputModes,
    skills: card.skills.map(s => ({ ...s, inputModes: [], outputModes: [], securityRequirements: [] })),
    signatures: []
  }
}

/**
 * Runs a task of the HTTP binding on `answer`: submitted, working, the answer as
 * artifact chunks, then completed with the cited CIDs in the final message's metadata
 * (or failed, or canceled). Input-required is not asked over HTTP: such a task fails,
 * naming why, since a blocking client could not answer it.
 */
function executor (answer: TaskAnswerer): AgentExecutor {
  const running = new Map<string, AbortController>()
  return {
    async execute (request: RequestContext, bus: ExecutionEventBus) {
      const { taskId, contextId, userMessage } = request
      const question = userMessage.parts.map(p => p.content?.$case === 'text' ? p.content.value : '').join('\n').trim()
      const status = (state: TaskState, message?: Message): void => {
        bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: { state, message, timestamp: new Date().toISOString() }, metadata: undefined }))
      }
      bus.publish(AgentEvent.task({ id: taskId, contextId, status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: new Date().toISOString() }, artifacts: [], history: [userMessage], metadata: undefined }))
      const cancel = new AbortController()
      running.set(taskId, cancel)
      status(TaskState.TASK_STATE_WORKING)
      const artifactId = randomUUID()
      let sent = false
      try {
        const result = await answer(question, {
          signal: cancel.signal,
          onText: text => {
            bus.publish(AgentEvent.artifactUpdate({ taskId, contextId, artifact: { artifactId, name: 'answer', description: '', parts: [textPart(text)], metadata: undefined, extensions: [] }, append: sent, lastChunk: false, metadata: undefined }))
            sent = true
          },
          requestInput: async prompt => { throw new Error(`the agent asked for input ("${prompt}"), which the HTTP binding does not carry`) }
        })
        if (cancel.signal.aborted) status(TaskState.TASK_STATE_CANCELED)
        else status(TaskState.TASK_STATE_COMPLETED, agentMessage(result.text, taskId, contextId, { cites: result.cites }))
      } catch (error) {
        status(cancel.signal.aborted ? TaskState.TASK_STATE_CANCELED : TaskState.TASK_STATE_FAILED, agentMessage(errorText(error).text, taskId, contextId))
      } finally {
        running.delete(taskId)
        bus.finished()
      }
    },
    async cancelTask (taskId: string) {
      running.get(taskId)?.abort()
    }
  }
}

export interface A2aHttp {
  /** The JSON-RPC endpoint; the agent card is at `${origin}/.well-known/agent-card.json`. */
  url: string
  origin: string
  close(): Promise<void>
}

/** A2A's HTTP binding (JSON-RPC, with streaming) for `answer`, on 127.0.0.1:`port` unless `host` says otherwise. */
export async function startA2aHttp (options: { answer: TaskAnswerer, card: A2aCard, port?: number, host?: string }): Promise<A2aHttp> {
  const app = express()
  const host = options.host ?? '127.0.0.1'
  const server = app.listen(options.port ?? 0, host)
  await new Promise<void>((resolve, reject) => { server.once('listening', resolve).once('error', reject) })
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`
  const url = `${origin}${A2A_HTTP_PATH}`
  const handler = new DefaultRequestHandler(sdkCard(options.card, url), new InMemoryTaskStore(), executor(options.answer))
  app.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: handler }))
  app.use(A2A_HTTP_PATH, jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }))
  return {
    url,
    origin,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}

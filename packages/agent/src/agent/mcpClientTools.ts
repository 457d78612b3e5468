import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { errorText } from '../callTool.ts'
import { McpServerError } from '../errors.ts'
import type { AgentTool } from './agentTool.ts'
import type { McpServerSettings } from './settings.ts'

export interface McpClientTools {
  tools: AgentTool[]
  /** Servers that could not be started or listed, and why: the agent runs without them. */
  failed: Array<{ server: string, error: string }>
  close: () => Promise<void>
}

/** How long a server may take to start and list its tools. */
const CONNECT_TIMEOUT_MS = 15_000

interface ContentPart { type: string, text?: string }

/** The text parts of a tool result (other parts are named by their type). */
const contentText = (content: ContentPart[]): string => content.map(c => c.type === 'text' ? c.text ?? '' : `[${c.type}]`).join('\n')

/**
 * Starts each configured MCP server over stdio and makes its tools the agent's, named
 * `server_tool` (never one of `reserved`). A server that fails to start is reported in `failed`; one that crashes
 * later answers its calls with an error the model reads. A tool not marked read-only asks
 * before it runs, like Commons' own signing tools.
 */
export async function connectMcpServers (servers: Record<string, McpServerSettings>, reserved: readonly string[] = []): Promise<McpClientTools> {
  const taken = new Set(reserved)
  const clients: Client[] = []
  const tools: AgentTool[] = []
  const failed: McpClientTools['failed'] = []
  for (const [server, settings] of Object.entries(servers)) {
    const client = new Client({ name: 'commons-agent', version: '0.1.0' })
    try {
      const transport = new StdioClientTransport({ command: settings.command, args: settings.args, env: { ...getDefaultEnvironment(), ...settings.env }, cwd: settings.cwd, stderr: 'ignore' })
      await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS })
      const listed = await client.listTools(undefined, { timeout: CONNECT_TIMEOUT_MS })
      clients.push(client)
      for (const tool of listed.tools) {
        const name = `${server}_${tool.name}`.replace(/[^A-Za-z0-9_]/g, '_')
        // A server named "dataset" with a tool "list" must not stand in for dataset_list.
        if (taken.has(name)) {
          failed.push({ server, error: `its tool ${tool.name} would be named ${name}, which is taken; rename the server in settings.json` })
          continue
        }
        taken.add(name)
        tools.push({
          name,
          description: tool.description ?? `${tool.name} of the MCP server ${server}`,
          inputSchema: tool.inputSchema as Record<string, unknown>,
          effect: tool.annotations?.readOnlyHint === true ? 'read' : 'sign',
          call: async (args) => {
            try {
              const result = await client.callTool({ name: tool.name, arguments: args })
              const text = contentText((result.content ?? []) as ContentPart[])
              return { isError: result.isError === true, text: result.isError === true ? text : JSON.stringify(text) }
            } catch (error) {
              const cause = errorText(error)
              return { isError: true, text: errorText(new McpServerError(`the MCP server "${server}" failed on ${tool.name}: ${cause.text}`, { hint: 'check the server (it may have crashed); the agent goes on without it' })).text }
            }
          }
        })
      }
    } catch (error) {
      failed.push({ server, error: errorText(error).text })
      await client.close().catch(() => {})
    }
  }
  return {
    tools,
    failed,
    close: async () => { await Promise.all(clients.map(async c => { await c.close().catch(() => {}) })) }
  }
}

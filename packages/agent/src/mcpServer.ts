import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import type { ToolContext } from './context.ts'
import { callTool } from './callTool.ts'
import type { CommonsTool } from './tool.ts'

export interface McpServerInit {
  name?: string
  version: string
}

/**
 * An MCP server exposing the tools: each one's zod schema is its input schema, and every
 * call goes through {@link callTool}, so a failure is an error result, never a crash.
 */
export function createMcpServer (tools: readonly CommonsTool[], ctx: ToolContext, init: McpServerInit): McpServer {
  const server = new McpServer({ name: init.name ?? 'commons', version: init.version })
  for (const tool of tools) {
    server.registerTool(tool.name, {
      description: tool.description,
      inputSchema: tool.input,
      annotations: { readOnlyHint: tool.effect === 'read', destructiveHint: false, openWorldHint: true }
    }, async (args: Record<string, unknown>) => {
      const answer = await callTool(tools, ctx, tool.name, args)
      return { content: [{ type: 'text' as const, text: answer.text }], isError: answer.isError }
    })
  }
  return server
}

/** Serves the tools over stdin/stdout until the client closes the stream. */
export async function serveMcpStdio (tools: readonly CommonsTool[], ctx: ToolContext, init: McpServerInit): Promise<void> {
  const server = createMcpServer(tools, ctx, init)
  const closed = new Promise<void>(resolve => { server.server.onclose = () => { resolve() } })
  await server.connect(new StdioServerTransport())
  // The transport does not watch for the end of stdin: a client that goes away closes the server.
  process.stdin.once('end', () => { void server.close() })
  await closed
}

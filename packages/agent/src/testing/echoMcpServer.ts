import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { z } from 'zod'

/**
 * A small external MCP server for tests: `echo` answers its text, `crash` ends the
 * process mid-call (a server that dies under the agent).
 */
const server = new McpServer({ name: 'tests', version: '1.0.0' })
server.registerTool('echo', { description: 'Answers the text it is given.', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
  async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }))
server.registerTool('crash', { description: 'Ends the server.', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
  async () => process.exit(3))
await server.connect(new StdioServerTransport())
process.stdin.once('end', () => { process.exit(0) })

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { connectMcpServers } from './mcpClientTools.ts'

const ECHO_SERVER = fileURLToPath(new URL('../testing/echoMcpServer.ts', import.meta.url))
const node = process.execPath

describe('external MCP servers as agent tools', () => {
  it('names tools server_tool, answers their results, and a crashed server answers McpServerError', async () => {
    const external = await connectMcpServers({ tests: { command: node, args: [ECHO_SERVER] } })
    try {
      assert.deepEqual(external.tools.map(t => [t.name, t.effect]), [['tests_echo', 'read'], ['tests_crash', 'read']])
      assert.deepEqual(await external.tools[0].call({ text: 'hi' }), { isError: false, text: JSON.stringify('echo: hi') })
      const bad = await external.tools[0].call({ text: 7 })
      assert.equal(bad.isError, true, 'the server refused the arguments')
      const crashed = await external.tools[1].call({ text: 'now' })
      assert.equal(crashed.isError, true)
      assert.match(crashed.text, /^McpServerError/)
      assert.match((await external.tools[0].call({ text: 'hi' })).text, /^McpServerError/)
    } finally {
      await external.close()
    }
  })

  it('leaves out a server that does not start and a tool whose name is taken, and keeps the rest', async () => {
    const external = await connectMcpServers({
      missing: { command: '/nonexistent/mcp-server' },
      dataset: { command: node, args: [ECHO_SERVER] }
    }, ['dataset_echo'])
    try {
      assert.deepEqual(external.tools.map(t => t.name), ['dataset_crash'])
      assert.deepEqual(external.failed.map(f => f.server), ['missing', 'dataset'])
    } finally {
      await external.close()
    }
  })
})

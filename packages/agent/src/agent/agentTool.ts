import { z } from 'zod'
import { callTool, type ToolAnswer } from '../callTool.ts'
import type { ToolContext } from '../context.ts'
import type { CommonsTool } from '../tool.ts'

/** A tool as the agent sees it: Commons' own or an external MCP server's. */
export interface AgentTool {
  name: string
  description: string
  /** JSON schema of the arguments (an object). */
  inputSchema: Record<string, unknown>
  /** 'sign' tools (and every external tool not marked read-only) ask before they run. */
  effect: 'read' | 'sign'
  /** Never throws: failures are error answers. */
  call: (args: Record<string, unknown>) => Promise<ToolAnswer>
}

/** The node's own tools, run in-process with the same schemas `commons mcp` serves. */
export function commonsAgentTools (tools: readonly CommonsTool[], ctx: ToolContext): AgentTool[] {
  return tools.map(tool => ({
    name: tool.name,
    description: tool.description,
    inputSchema: z.toJSONSchema(z.object(tool.input)) as Record<string, unknown>,
    effect: tool.effect,
    call: async (args) => callTool(tools, ctx, tool.name, args)
  }))
}

/**
 * The tools with some arguments narrowed to given values (an enum in the tool's JSON schema,
 * so the grammar lets the model write nothing else), e.g. `{ job_show: { id: [0, 1] } }`:
 * for a small model that chooses tools well but does not copy numbers or free text from a
 * question. The choice of tool stays the model's.
 */
export function narrowArguments (tools: readonly AgentTool[], choices: Record<string, Record<string, Array<string | number>>>): AgentTool[] {
  return tools.map(tool => {
    const args = choices[tool.name]
    if (args === undefined) return tool
    const schema = tool.inputSchema as { properties?: Record<string, Record<string, unknown>> }
    const properties = { ...schema.properties }
    for (const [name, values] of Object.entries(args)) properties[name] = { ...properties[name], enum: values }
    return { ...tool, inputSchema: { ...schema, properties } }
  })
}

import { z } from 'zod'
import { isBaseError } from '@commons/errors'
import type { ToolContext } from './context.ts'
import { ToolArgumentsError, UnknownToolError } from './errors.ts'
import { toJson, type CommonsTool } from './tool.ts'

/** A tool's answer as the model or an MCP client reads it: JSON text, or an error said in words. */
export interface ToolAnswer {
  isError: boolean
  text: string
  /** The result as a value (absent on error). */
  value?: unknown
  /** The error's name on error (UnknownToolError, ToolArgumentsError, NoPriceError...). */
  error?: string
}

/** An error as text for a model: name, what was wrong, what to do. */
export function errorText (error: unknown): { name: string, text: string } {
  if (isBaseError(error)) return { name: error.name, text: `${error.name}: ${error.message}${error.hint !== undefined ? ` (hint: ${error.hint})` : ''}` }
  const e = error instanceof Error ? error : new Error(String(error))
  return { name: e.name, text: `${e.name}: ${e.message}` }
}

/** Checks `args` against the tool's schema; a refusal names every bad field. */
export function parseArguments (tool: CommonsTool, args: unknown): Record<string, unknown> {
  const parsed = z.strictObject(tool.input).safeParse(args ?? {})
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map(i => `${i.path.join('.') || '(arguments)'}: ${i.message}`)
  throw new ToolArgumentsError(`bad arguments for ${tool.name}: ${problems.join('; ')}`, { hint: 'call it again with arguments that fit its schema', details: { tool: tool.name, problems } })
}

/**
 * Runs a tool by name. Never throws: an unknown tool, bad arguments or a failure of the
 * tool come back as an error answer, so neither an MCP server nor the agent stops on them.
 */
export async function callTool (tools: readonly CommonsTool[], ctx: ToolContext, name: string, args: unknown): Promise<ToolAnswer> {
  try {
    const tool = tools.find(t => t.name === name)
    if (tool === undefined) {
      throw new UnknownToolError(`there is no tool "${name}"`, { hint: `the tools are ${tools.map(t => t.name).join(', ')}`, details: { name } })
    }
    const value = await tool.run(ctx, parseArguments(tool, args))
    return { isError: false, text: toJson(value), value }
  } catch (error) {
    const { name: errorName, text } = errorText(error)
    return { isError: true, text, error: errorName }
  }
}

import { z } from 'zod'
import type { ToolContext } from './context.ts'

/**
 * A tool of the agent, in MCP's terms: a name, a description for the model, a zod schema
 * of its arguments. `effect: 'sign'` marks a tool that signs or spends for the user: the
 * agent asks before calling it unless a policy allows it.
 */
export interface CommonsTool<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string
  description: string
  input: S
  effect: 'read' | 'sign'
  run: (ctx: ToolContext, args: z.infer<z.ZodObject<S>>) => Promise<unknown>
}

/** Keeps a tool's argument types tied to its schema. */
export function defineTool<S extends z.ZodRawShape> (tool: CommonsTool<S>): CommonsTool {
  return tool as unknown as CommonsTool
}

/** JSON of a tool result: bigints as strings (round ids and token amounts pass 2^53), CIDs as strings. */
export function toJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => typeof v === 'bigint' ? v.toString() : v, 2)
}

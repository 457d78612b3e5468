import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { AgentSettingsError } from '../errors.ts'

/** One external MCP server, in the `mcpServers` shape MCP clients (Claude Desktop, IDEs) use. */
const mcpServer = z.object({
  command: z.string().min(1),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional()
})

const settingsSchema = z.object({
  /** The GGUF model the agent uses when none is given. */
  model: z.string().min(1).optional(),
  mcpServers: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/), mcpServer).optional()
}).loose()

export type AgentSettings = z.infer<typeof settingsSchema>
export type McpServerSettings = z.infer<typeof mcpServer>

/** The file of a home's agent settings. */
export const settingsFile = (home: string): string => join(home, 'settings.json')

/** `<home>/settings.json`; none means no settings. */
export async function readAgentSettings (home: string): Promise<AgentSettings> {
  const file = settingsFile(home)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new AgentSettingsError(`cannot read ${file}`, { details: { file }, cause: error })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new AgentSettingsError(`${file} is not JSON`, { hint: 'fix or remove it; see docs/agent.md for its shape', details: { file }, cause: error })
  }
  const parsed = settingsSchema.safeParse(json)
  if (!parsed.success) {
    const problems = parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`)
    throw new AgentSettingsError(`${file} has the wrong shape: ${problems.join('; ')}`, {
      hint: 'mcpServers maps a name (letters, digits, _ or -) to {"command", "args", "env", "cwd"}', details: { file, problems }
    })
  }
  return parsed.data
}

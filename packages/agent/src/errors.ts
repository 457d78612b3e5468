import { BaseError } from '@commons/errors'

/** A tool was called with arguments its schema refuses. */
export class ToolArgumentsError extends BaseError {
  override name = 'ToolArgumentsError'
}

/** A tool name no tool answers to. */
export class UnknownToolError extends BaseError {
  override name = 'UnknownToolError'
}

/** No agent is known to ask (agent cards arrive over gossip once A2A runs on the node). */
export class NoAgentsError extends BaseError {
  override name = 'NoAgentsError'
}

/** A model file that is missing or is not GGUF. */
export class ModelFileError extends BaseError {
  override name = 'ModelFileError'
}

/** The node's settings file (mcpServers) cannot be read or has the wrong shape. */
export class AgentSettingsError extends BaseError {
  override name = 'AgentSettingsError'
}

/** An external MCP server could not be started or answered badly. */
export class McpServerError extends BaseError {
  override name = 'McpServerError'
}

/** A note's signature does not match its author. */
export class NoteSignatureError extends BaseError {
  override name = 'NoteSignatureError'
}

import { BaseError } from '@commons/errors'

/** Another agent could not be reached: its peer is down, or does not serve A2A. */
export class AgentUnreachableError extends BaseError {
  override name = 'AgentUnreachableError'
}

/** Another agent's task ended failed (or the stream broke off before it ended). */
export class AgentTaskError extends BaseError {
  override name = 'AgentTaskError'
}

/** What a node test waits for: a check, true once the nodes have done something. */
export type Check = () => Promise<boolean> | boolean

/**
 * Polls `check` every `everyMs` until it holds; past `timeoutMs`, fails naming `what`
 * and what the nodes logged last (`said`), so a stuck test says where it stuck.
 */
export async function until (what: string, check: Check, options: { timeoutMs?: number, everyMs?: number, said?: () => string } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  while (!(await check())) {
    if (Date.now() > deadline) {
      const said = options.said?.()
      throw new Error(`timed out waiting for ${what}${said === undefined ? '' : `; the nodes said:\n${said}`}`)
    }
    await new Promise(resolve => setTimeout(resolve, options.everyMs ?? 100))
  }
}

import { resolve } from 'node:path'

/**
 * The home used when none is given: `$COMMONS_HOME`, else `./.commons`. A module of its
 * own (`@commons/store/home`): a command that only needs the path does not load the store.
 */
export function defaultHome (): string {
  return resolve(process.env.COMMONS_HOME ?? '.commons')
}

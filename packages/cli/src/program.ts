import { readFileSync, statSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { isBaseError } from '@commons/errors'
import { reportStoreMigrations } from '@commons/store/migrationReport'
// Tensor Merkle trees (a dataset's tokens root, every state root) hashed by the native kernels where built.
import '@commons/engine/nativeMerkle'
import { note, progress, progressDone, reportError, UsageError, type GlobalOptions } from './output.ts'

type AddCommands = (program: Command) => void

/**
 * Every top-level command and the module that adds it, in the order help lists them (a
 * module may add subcommands to a command added before it: fund to chain, deposit to
 * dao, tour to dataset). A command line loads only the modules of the command it names: the chain,
 * libp2p and llama.cpp cost a `dataset` command ~0.6 s of start-up it never used.
 */
const COMMANDS: Array<[names: string[], load: () => Promise<AddCommands>]> = [
  [['dataset'], async () => (await import('./commands/dataset.ts')).datasetCommand],
  [['chain'], async () => (await import('./commands/chain.ts')).chainCommand],
  [['chain'], async () => (await import('./commands/fund.ts')).fundCommand],
  [['dao'], async () => (await import('./commands/dao.ts')).daoCommand],
  [['dao'], async () => (await import('./commands/daoDeposit.ts')).daoDepositCommand],
  [['train', 'replay', 'trace', 'generate'], async () => (await import('./commands/train.ts')).trainCommands],
  [['model'], async () => (await import('./commands/model.ts')).modelCommand],
  [['tokenizer'], async () => (await import('./commands/tokenizer.ts')).tokenizerCommand],
  [['job'], async () => (await import('./commands/job.ts')).jobCommand],
  [['feed'], async () => (await import('./commands/feed.ts')).feedCommand],
  [['storage'], async () => (await import('./commands/storage.ts')).storageCommand],
  [['store'], async () => (await import('./commands/store.ts')).storeCommand],
  [['node'], async () => (await import('./commands/node.ts')).nodeCommand],
  [['serve'], async () => (await import('./commands/serve.ts')).serveCommand],
  [['infer'], async () => (await import('./commands/infer.ts')).inferCommand],
  [['channel'], async () => (await import('./commands/channel.ts')).channelCommand],
  [['mcp'], async () => (await import('./commands/mcp.ts')).mcpCommand],
  [['agent'], async () => (await import('./commands/agent.ts')).agentCommand],
  [['score'], async () => (await import('./commands/score.ts')).scoreCommand],
  [['explorer'], async () => (await import('./commands/explorer.ts')).explorerCommand],
  [['demo', 'dataset'], async () => (await import('./commands/demo.ts')).demoCommand]
]

/**
 * The command a command line names: its first word, after --home and its value only
 * (`commons --help dataset` shows the whole program's help: every command is needed).
 */
function commandNamed (argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--home') i++
    else if (argv[i].startsWith('--home=')) continue
    else return argv[i].startsWith('-') ? undefined : argv[i]
  }
  return undefined
}

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

/**
 * `--home` must name a directory (or a path where one can be made): an empty value would
 * put the state in the current directory, a file would fail deep inside a command.
 */
function checkHome (options: GlobalOptions): void {
  if (options.home === undefined) return
  if (options.home.trim() === '') throw new UsageError('--home is empty', { hint: 'pass a directory, e.g. --home ~/.commons, or leave --home out for ./.commons' })
  const stat = statSync(options.home, { throwIfNoEntry: false })
  if (stat !== undefined && !stat.isDirectory()) {
    throw new UsageError(`--home ${options.home} is a file, not a directory`, { hint: 'pass a directory (it is created if missing)', details: { home: options.home } })
  }
}

/**
 * The `commons` command line: one program, a subcommand per area. Given the command line
 * (`process.argv` form), only the command it names is loaded (none for `--version`);
 * help, an unknown command and no argv at all get every command.
 */
export async function buildProgram (argv: string[] = []): Promise<Command> {
  const program = new Command('commons')
    .description('Commons: community-owned datasets, verifiable training, open models')
    .option('--home <dir>', 'directory for all local state (default: $COMMONS_HOME, else ./.commons)')
    .version(VERSION, '-V, --version', 'print the version of commons')
    .enablePositionalOptions(false)
    .hook('preAction', (_program, action) => {
      const options = action.optsWithGlobals<GlobalOptions>()
      checkHome(options)
      // A home an older Commons wrote is moved into the pack store by the first command to open it.
      reportStoreMigrations(({ moved, done }) => {
        if (!done) return progress(options, `moving the blocks of an older home into the pack store (once): ${moved.toLocaleString('en-US')} blocks`)
        progressDone(options)
        if (moved > 0) note(options, `moved ${moved.toLocaleString('en-US')} blocks of an older home into the pack store`)
      })
    })
    // Commander's own errors (a bad option value, a missing argument) are thrown, not
    // printed, so they are reported like every other error: by name, as JSON with --json.
    .exitOverride()
    .configureOutput({ outputError: () => {} })
  const named = commandNamed(argv)
  const known = COMMANDS.some(([names]) => named !== undefined && names.includes(named))
  const versionOnly = named === undefined && argv.some(a => a === '-V' || a === '--version') && !argv.some(a => a === '-h' || a === '--help')
  const wanted = versionOnly ? [] : COMMANDS.filter(([names]) => !known || names.includes(named as string))
  for (const add of await Promise.all(wanted.map(async ([, load]) => load()))) add(program)
  return program
}

/** Runs one command line; returns the exit code (the errors a user can cause end in 1). */
export async function runProgram (argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help, --version, and the help shown for a command given no subcommand.
      if (error.exitCode === 0 || error.code === 'commander.help') return error.exitCode
      return reportError(new UsageError(error.message.replace(/^error: /, ''), { hint: 'run with --help for usage', details: { code: error.code } }), argv.includes('--json'))
    }
    // A contract's revert as a sentence; only a command that reached the chain meets one.
    const said = isBaseError(error) && error.name === 'ContractRevertError' ? (await import('./revertText.ts')).revertSentence(error) : error
    return reportError(said, argv.includes('--json'))
  }
}

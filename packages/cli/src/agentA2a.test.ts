import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LocalAccount } from 'viem'
import { devnetAccount } from '@commons/chain'
import { putNote } from '@commons/agent'
import { openStore } from '@commons/store'
import { until } from '@commons/node/testing/until'
import { agentsFile } from './commands/agentNetwork.ts'
import { commons, errorName, MAIN } from './testing.ts'

/**
 * Two homes' `commons agent serve` on loopback, no chain: each sees the other's card,
 * `commons agent ask --to` sends a task and gets an answer citing a note by CID, the
 * note travels to the other home by CID, and a dead peer is a clear error.
 */

interface Served { child: ChildProcess, info: { peerId: string, multiaddrs: string[], http: string, card: string } }

function serve (home: string, args: string[], command = ['agent', 'serve', '--interval', '1']): Promise<Served> {
  const child = spawn(process.execPath, [MAIN, ...command, '--home', home, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COMMONS_PASSWORD: 'test password' } })
  let out = ''
  let err = ''
  child.stderr!.on('data', (chunk: Buffer) => { err += chunk.toString() })
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      try { resolve({ child, info: JSON.parse(out) as Served['info'] }) } catch {}
    })
    child.on('exit', code => { reject(new Error(`${command.join(' ')} exited ${code}: ${err}`)) })
  })
}

/** The agents a home's `agent serve` has seen, as `agent list` reads them (empty before the first). */
async function seenBy (home: string): Promise<string> {
  return await readFile(agentsFile(home), 'utf8').catch(() => '')
}

async function stopped (s: Served | undefined): Promise<void> {
  if (s === undefined || s.child.exitCode !== null) return
  const exit = new Promise(resolve => s.child.once('exit', resolve))
  s.child.kill('SIGINT')
  await exit
}

describe('commons agent serve, list, ask --to', () => {
  let root: string
  let alice: Served | undefined
  let bob: Served | undefined
  let cid: string
  const homeA = (): string => join(root, 'alice')
  const homeB = (): string => join(root, 'bob')

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'commons-a2a-cli-'))
    const store = await openStore(homeA())
    cid = (await putNote(store, devnetAccount(1) as LocalAccount, { title: 'Lighthouse', text: 'The lighthouse lamp turns every 12 seconds.', tags: ['lighthouse'] })).cid
    await store.close()
    alice = await serve(homeA(), ['--name', 'alice'])
    bob = await serve(homeB(), ['--name', 'bob', '--bootstrap', alice.info.multiaddrs[0]!])
  })
  after(async () => {
    await stopped(alice)
    await stopped(bob)
    await rm(root, { recursive: true, force: true })
  })

  it('list shows the other agent once its card arrives', async () => {
    // Waited for in the file `agent list` reads (a CLI process every half second cost ~1 CPU s each).
    await until('bob to have seen alice', async () => (await seenBy(homeB())).includes('"alice"'), { timeoutMs: 30_000, everyMs: 250 })
    const agents = JSON.parse((await commons(['agent', 'list', '--json', '--home', homeB()])).stdout) as Array<{ name: string, peerId: string, endpoints: string[] }>
    const a = agents.find(x => x.name === 'alice')!
    assert.equal(a.peerId, alice!.info.peerId)
    assert.ok(a.endpoints.includes(alice!.info.http))
  })

  it('ask --to NAME sends a task and answers with the note\'s CID', async () => {
    const run = await commons(['agent', 'ask', 'how often does the lighthouse turn?', '--to', 'alice', '--json', '--home', homeB()])
    assert.equal(run.code, 0, run.stderr)
    const answer = JSON.parse(run.stdout) as { state: string, answer: string, cites: string[], states: string[] }
    assert.equal(answer.state, 'completed')
    assert.deepEqual(answer.cites, [cid])
    assert.match(answer.answer, /12 seconds/)
    assert.deepEqual(answer.states, ['submitted', 'working', 'completed'])
  })

  it('bob takes in alice\'s note over the knowledge topic, and his answer cites the same CID', async () => {
    await until('bob to answer from alice\'s note', async () => {
      const run = await commons(['agent', 'ask', 'lighthouse lamp', '--to', 'bob', '--json', '--home', homeA()])
      return run.code === 0 && (JSON.parse(run.stdout) as { cites: string[] }).cites.includes(cid)
    }, { timeoutMs: 30_000, everyMs: 1000 })
  })

  it('the agent card is served at the well-known path of the HTTP binding', async () => {
    const card = await (await fetch(alice!.info.card)).json() as { name: string }
    assert.equal(card.name, 'alice')
  })

  it('a dead peer is AgentUnreachableError', async () => {
    const run = await commons(['agent', 'ask', 'anyone?', '--to', `/ip4/127.0.0.1/tcp/9/p2p/${alice!.info.peerId}`, '--json', '--home', homeB()])
    assert.notEqual(run.code, 0)
    assert.equal(errorName(run), 'AgentUnreachableError')
  })
})

describe('commons node start publishes its agent\'s card too', () => {
  let root: string
  let node: Served | undefined
  let watcher: Served | undefined
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'commons-a2a-node-'))
    const h = ['--home', join(root, 'node')]
    assert.equal((await commons(['chain', 'up', '--detach', ...h])).code, 0)
    assert.equal((await commons(['chain', 'deploy', ...h])).code, 0)
    node = await serve(join(root, 'node'), ['--roles', 'validator', '--api-port', '0'], ['node', 'start'])
  })
  after(async () => {
    await stopped(watcher)
    await stopped(node)
    await commons(['chain', 'down', '--home', join(root, 'node')])
    await rm(root, { recursive: true, force: true })
  })

  it('another agent sees the node\'s card, named by its address, and asks it', async () => {
    const { address } = node!.info as unknown as { address: string }
    watcher = await serve(join(root, 'watcher'), ['--bootstrap', node!.info.multiaddrs[0]!])
    const home = join(root, 'watcher')
    await until('the node\'s card', async () => (await seenBy(home)).includes(address), { timeoutMs: 30_000, everyMs: 250 })
    assert.ok((await commons(['agent', 'list', '--json', '--home', home])).stdout.includes(address))
    const run = await commons(['agent', 'ask', 'anything shared?', '--to', address, '--json', '--home', home])
    assert.equal(run.code, 0, run.stderr)
    assert.equal((JSON.parse(run.stdout) as { state: string }).state, 'completed')
  })
})

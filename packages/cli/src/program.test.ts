import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Command } from 'commander'
import { buildProgram } from './program.ts'

/** Every command path under `command` ("dataset commit", ...), with its options. */
function tree (command: Command, prefix = ''): string[] {
  return command.commands.flatMap(c => {
    const path = `${prefix}${c.name()}`
    return [`${path} ${c.options.map(o => o.flags).join(',')}`, ...tree(c, `${path} `)]
  })
}

describe('the command line, loaded a command at a time', () => {
  it('gives each command named the same subcommands and options as the whole program, and loads no other', async () => {
    const whole = await buildProgram()
    const names = whole.commands.map(c => c.name())
    assert.ok(names.length >= 20, names.join(' '))
    for (const name of names) {
      const argv = ['node', 'commons', '--home', '/tmp/x', name, '--json']
      const one = await buildProgram(argv)
      const expected = tree(whole).filter(path => path.split(' ')[0] === name)
      const loaded = tree(one)
      // A module may add more than one top-level command (train, replay, trace, generate): those come along.
      assert.deepEqual(loaded.filter(path => path.split(' ')[0] === name), expected, name)
      assert.ok(one.commands.length < names.length, `${name} loaded ${one.commands.length} commands`)
    }
    // demo.ts adds `dataset tour`, and loads the network demo only when it runs.
    assert.deepEqual((await buildProgram(['node', 'commons', 'dataset', 'commit'])).commands.map(c => c.name()), ['dataset', 'demo'])
  })

  it('loads every command for help and for a name it does not know, none for --version', async () => {
    const all = (await buildProgram()).commands.length
    assert.equal((await buildProgram(['node', 'commons', '--help'])).commands.length, all)
    assert.equal((await buildProgram(['node', 'commons', 'bogus'])).commands.length, all)
    assert.equal((await buildProgram(['node', 'commons', '--version'])).commands.length, 0)
    assert.equal((await buildProgram(['node', 'commons', '--version', '--help'])).commands.length, all)
    // An option before the name: commander shows the whole program's help (or refuses the option).
    assert.equal((await buildProgram(['node', 'commons', '--help', 'dataset'])).commands.length, all)
    assert.equal((await buildProgram(['node', 'commons', '--home', '/tmp/x', '-h', 'chain'])).commands.length, all)
    assert.deepEqual((await buildProgram(['node', 'commons', '--home=/tmp/x', 'chain', '--help'])).commands.map(c => c.name()), ['chain'])
  })
})

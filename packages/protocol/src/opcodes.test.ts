import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { REF_KIND_CODE } from './encoding.ts'
import { BINARY_OPCODE, OP_GROUPS, OPCODE, opName, UNARY_OPCODE, type OpName } from './opcodes.ts'

describe('op vocabulary', () => {
  it('has the op codes and input kinds of the Solidity verifier (StepOps.sol), no more and no fewer', async () => {
    const source = await readFile(fileURLToPath(new URL('../../../contracts/src/dispute/StepOps.sol', import.meta.url)), 'utf8')
    const constants = (text: string) => Object.fromEntries([...text.matchAll(/uint8 internal constant (\w+) = (\d+);/g)].map(m => [m[1], Number(m[2])]))
    const opCodes = source.indexOf('Op codes')
    assert.deepEqual(constants(source.slice(opCodes)), OPCODE)
    const kinds = constants(source.slice(0, opCodes))
    assert.deepEqual(kinds, { SLOT: REF_KIND_CODE.slot, OP: REF_KIND_CODE.op, TOKENS: REF_KIND_CODE.tokens, CONSTANT: REF_KIND_CODE.const })
  })

  it('puts every op in the group its code says (code >> 4), once', () => {
    const groups = Object.values(OP_GROUPS) as ReadonlyArray<readonly OpName[]>
    assert.deepEqual(groups.flat().sort(), Object.keys(OPCODE).sort())
    groups.forEach((names, group) => names.forEach(name => assert.equal(OPCODE[name] >> 4, group, name)))
  })

  it('names the binary and unary groups by the engine op names, and reads codes back', () => {
    for (const [name, code] of Object.entries({ ...BINARY_OPCODE, ...UNARY_OPCODE })) assert.equal(OPCODE[name.toUpperCase() as OpName], code)
    for (const [name, code] of Object.entries(OPCODE)) assert.equal(opName(code), name)
    assert.equal(opName(13), undefined)
  })
})

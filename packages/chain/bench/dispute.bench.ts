import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeFunctionData, bytesToHex, parseEther, toHex, type Abi, type Hex } from 'viem'
import { evaluateCalldata, OPCODE, proveLeaves, wordBytes, type ProgramOp } from '@commons/protocol'
import { initialState, opInputs, readRecipe, runStateAt, tokensRootOf, train, traceStep, openBackend, Tensor, type StepTrace } from '@commons/engine'
import type { BenchResult } from '../../../bench/table.ts'
import {
  modelHeaderOf,
  binary32HarnessAbi, binary32HarnessBytecode, Challenger, claimJob, connect, Defender, deploy, devnetAccount, playDispute, postJob,
  registerAndStake, startDevnet, submitResult, tensorMerkleHarnessAbi, tensorMerkleHarnessBytecode, transferTokens
} from '../src/index.ts'
import { deployForTest, type DeployedForTest } from '../src/testing.ts'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const CODE_NAMES = Object.fromEntries(Object.entries(OPCODE).map(([name, code]) => [code, name]))

/** Elements an op's element program reads, by its attributes: the worst op of each code has the most. */
function reads (op: ProgramOp): number {
  if (op.code === OPCODE.DOT) return 2 * op.attrs[2]
  if (op.code === OPCODE.SCATTER) return 2 * op.attrs[1]
  if (op.code === OPCODE.SUM || op.code === OPCODE.MAXR) return op.attrs[0]
  return op.inputs.length
}

/** The op of each code that reads the most inputs per element, in a traced step. */
function worstOps (trace: StepTrace): Array<{ index: number, op: ProgramOp }> {
  const worst = new Map<number, { index: number, op: ProgramOp }>()
  trace.program.step.forEach((op, index) => {
    const known = worst.get(op.code)
    if (known === undefined || reads(op) > reads(known.op)) worst.set(op.code, { index, op })
  })
  return [...worst.values()].sort((a, b) => a.op.code - b.op.code)
}

/**
 * The dispute game on the benchmark recipe (recipes/small.json) on anvil: the gas of
 * StepVerifier.evaluate for the worst op of every opcode, then a whole dispute against
 * a trainer that corrupted an element of the largest matmul (a weight gradient with a
 * 2048-term dot product), move by move.
 */
async function benchGame (log: (line: string) => void, rows: Array<Array<string | number>>, figures: Record<string, number>): Promise<void> {
  const recipe = { ...await readRecipe(join(repo, 'recipes/small.json')), steps: 2, checkpointInterval: 1 }
  const tokens = Int32Array.from(await readFile(join(repo, 'packages/engine/fixtures/corpus.txt')))
  const home = await mkdtemp(join(tmpdir(), 'commons-bench-dispute-'))
  const devnet = await startDevnet({ home })
  const backend = openBackend('auto')
  const engine = backend.ctx
  try {
    const [deployer, requester, trainer, validator] = await Promise.all([0, 1, 2, 3].map(async i => connect(devnet.rpcUrl, devnetAccount(i))))
    const deployment = await deploy(deployer)
    log('dispute: tracing a step of the small recipe')
    const trace = traceStep(engine, recipe, tokens, initialState(recipe))
    const { program } = trace
    const ctx = { seed: recipe.seed, step: 0 }
    const tokensTensor = new Tensor([tokens.length], tokens)
    log('dispute: worst-case element verification per opcode')
    for (const { index, op } of worstOps(trace)) {
      const inputs = opInputs(op, trace, tokensTensor)
      const used = Number(await deployer.public.estimateGas({ account: deployer.account, to: deployment.contracts.stepVerifier, data: evaluateCalldata(op, program.constantRoots, 0, ctx, inputs) }))
      const name = CODE_NAMES[op.code]
      rows.push([`verify ${name}`, `op ${index}, ${reads(op)} inputs per element, whole call`, used])
      figures[`verify.${name}`] = used
    }

    // The init program (S_0): one op per slot, no inputs.
    for (const code of [OPCODE.UNIFORM, OPCODE.FILL]) {
      const index = program.init.findIndex(op => op.code === code)
      const op = program.init[index]
      const used = Number(await deployer.public.estimateGas({ account: deployer.account, to: deployment.contracts.stepVerifier, data: evaluateCalldata(op, program.constantRoots, 0, ctx, []) }))
      rows.push([`verify ${CODE_NAMES[code]}`, `init op ${index} (slot ${index} of S_0), no inputs, whole call`, used])
      figures[`verify.${CODE_NAMES[code]}`] = used
    }

    log('dispute: a whole dispute on the small recipe')
    for (const [clients, amount] of [[requester, '100000'], [trainer, '100000'], [validator, '1000']] as const) await transferTokens(deployer, deployment, clients.account.address, parseEther(amount))
    await registerAndStake(trainer, deployment, { peerId: toHex('bench-trainer'), roles: ['trainer'], amount: parseEther('5000') })
    await registerAndStake(validator, deployment, { peerId: toHex('bench-validator'), roles: ['validator'], amount: parseEther('500') })
    const dot = worstOps(trace).find(w => w.op.code === OPCODE.DOT)
    if (dot === undefined) throw new Error('the small recipe has no matmul')
    const fault = { kind: 'step' as const, step: 1, op: dot.index, element: 12345 }
    const { jobId } = await postJob(requester, deployment, {
      datasetCid: 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i', tokensRoot: tokensRootOf(tokens),
      recipeCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', programHash: program.hash, modelHeader: modelHeaderOf(recipe, tokensRootOf(tokens)), seed: BigInt(recipe.seed),
      steps: recipe.steps, reward: parseEther('1000'), jobStake: parseEther('200'), trainingTime: 3600n, challengeWindow: 3600n
    })
    await claimJob(trainer, deployment, jobId)
    const dir = join(home, 'run')
    const result = await train(engine, { recipe, tokens, data: { source: 'corpus' }, out: dir, fault })
    await submitResult(trainer, deployment, { jobId, modelCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', transcriptRoot: result.transcriptRoot, steps: recipe.steps })
    const defender = new Defender(trainer, deployment, { engine, recipe, tokens, fault, stateAt: async step => runStateAt(engine, dir, tokens, step, fault) })
    const challenger = new Challenger(validator, deployment, { engine, jobId, recipe, tokens, program, records: result.records })
    const outcome = await playDispute(challenger, defender, 1, await runStateAt(engine, dir, tokens, 1))
    for (const move of [outcome.open, ...outcome.moves]) {
      const detail = move.name === 'postOpTrace' ? `${program.step.length} op roots` : move.name === 'pinpoint' ? `DOT op ${outcome.op}, element ${outcome.element}, with every proof` : ''
      rows.push([`move: ${move.name}`, detail, Number(move.gas)])
      figures[`move.${move.name}`] = Number(move.gas)
    }
    figures.moves = outcome.moves.length
    figures.maxMoveGas = Math.max(...outcome.moves.map(m => Number(m.gas)), Number(outcome.open.gas))
    rows.push(['dispute outcome', `${outcome.winner} wins (${outcome.reason}) in ${outcome.moves.length} moves after open`, figures.maxMoveGas])

    // The same lie by a trainer that publishes nothing: the challenger walks the op's
    // output on-chain (requestValues / provideValues) down to the element.
    log('dispute: the same lie, values forced out on-chain')
    const { jobId: second } = await postJob(requester, deployment, {
      datasetCid: 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i', tokensRoot: tokensRootOf(tokens),
      recipeCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', programHash: program.hash, modelHeader: modelHeaderOf(recipe, tokensRootOf(tokens)), seed: BigInt(recipe.seed),
      steps: recipe.steps, reward: parseEther('1000'), jobStake: parseEther('200'), trainingTime: 3600n, challengeWindow: 3600n
    })
    await claimJob(trainer, deployment, second)
    await submitResult(trainer, deployment, { jobId: second, modelCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', transcriptRoot: result.transcriptRoot, steps: recipe.steps })
    const walker = new Challenger(validator, deployment, { engine, jobId: second, recipe, tokens, program, records: result.records })
    const { id } = await walker.open(1, await runStateAt(engine, dir, tokens, 1))
    await defender.postOpTrace(id)
    let walk = await walker.walkValues(id)
    let requests = 0
    let requestGas = 0
    let provideGas = 0
    while (!('element' in walk.next)) {
      requests++
      requestGas = Math.max(requestGas, ...walk.moves.map(m => Number(m.gas)))
      provideGas = Math.max(provideGas, Number((await defender.provideValues(id)).gas))
      walk = await walker.walkValues(id)
    }
    const size = program.step[walk.op].dims.reduce((a, b) => a * b, 1)
    rows.push(['move: requestValues', `op ${walk.op} (${size.toLocaleString('en')} elements), up to 512 leaves, max of ${requests}`, requestGas])
    rows.push(['move: provideValues', 'the requested leaves with their range proof, max', provideGas])
    rows.push(['walk to the element', `${requests} requests found element ${walk.next.element} (the fault's op: ${walk.op === dot.index})`, requests])
    figures['move.requestValues'] = requestGas
    figures['move.provideValues'] = provideGas
    figures.walkRequests = requests
  } finally {
    await backend.close()
    await devnet.stop()
    await rm(home, { recursive: true, force: true })
  }
}

/**
 * What disputes cost on-chain: gas per binary32 operation of the Solidity library, of
 * proving elements and rows against a tensor root, of verifying the worst element of
 * every opcode, and of each move of a whole dispute. Measured with eth_estimateGas on
 * anvil (an operation as the difference to the same call with no operands, averaged;
 * the rest as whole calls, calldata and the 21,000 of a transaction included) and with
 * the receipts of the moves.
 */
export async function benchDispute (log: (line: string) => void): Promise<BenchResult> {
  const rows: Array<Array<string | number>> = []
  const figures: Record<string, number> = {}
  const gas = async (c: DeployedForTest, abi: Abi, functionName: string, args: unknown[]): Promise<number> =>
    Number(await c.clients.public.estimateGas({ account: c.clients.account, to: c.address, data: encodeFunctionData({ abi, functionName, args } as never) as Hex }))

  log('dispute: binary32 operations')
  const arithmetic = await deployForTest(binary32HarnessAbi, binary32HarnessBytecode)
  try {
    const operands = (n: number, base: number): number[] => Array.from({ length: n }, (_, i) => (base + i * 977) >>> 0)
    const perOp = async (op: number, n: number): Promise<number> => {
      const empty = await gas(arithmetic, binary32HarnessAbi, 'evaluate', [op, [], []])
      return ((await gas(arithmetic, binary32HarnessAbi, 'evaluate', [op, operands(n, 0x3f800000), operands(n, 0x40000000)])) - empty) / n
    }
    for (const [name, op] of [['add', 0], ['sub', 1], ['mul', 2], ['div', 3], ['max', 4], ['sqrt', 6], ['exp', 8], ['log', 9]] as const) {
      const each = await perOp(op, 200)
      rows.push([`binary32 ${name}`, 'per operation', Math.round(each)])
      figures[`binary32.${name}`] = Math.round(each)
    }
    for (const n of [512, 2048]) {
      const used = await gas(arithmetic, binary32HarnessAbi, 'dot', [bytesToHex(wordBytes(operands(n, 0x3f800000))), bytesToHex(wordBytes(operands(n, 0x3e000000)))])
      rows.push([`dot product of ${n} terms`, n === 2048 ? 'the largest matmul element (MAX_INPUTS = 4096), whole call' : 'whole call', used])
      figures[`dot${n}`] = used
    }
  } finally {
    await arithmetic.stop()
  }

  log('dispute: element and row proofs')
  const merkle = await deployForTest(tensorMerkleHarnessAbi, tensorMerkleHarnessBytecode)
  try {
    const tensor = new Tensor([857_216], Float32Array.from({ length: 857_216 }, (_, i) => Math.sin(i)))
    for (const [what, first, leaves] of [['1 element (1 leaf)', 1000, 1], ['a row of 128', 1024, 16], ['a row of 344', 2048, 43], ['2048 elements', 4096, 256]] as const) {
      const proof = proveLeaves(tensor, first, first + leaves - 1)
      const used = await gas(merkle, tensorMerkleHarnessAbi, 'rootFromRange', [BigInt(proof.length), 0, BigInt(proof.firstLeaf), bytesToHex(wordBytes(proof.words)), proof.siblings.map(s => bytesToHex(s))])
      rows.push([`proof of ${what}`, `in a tensor of ${tensor.size.toLocaleString('en')} elements`, used])
      figures[`proof.${leaves}leaves`] = used
    }
  } finally {
    await merkle.stop()
  }
  await benchGame(log, rows, figures)
  return {
    part: 'dispute',
    title: 'Disputes: gas of binary32 arithmetic, proofs, element verification per opcode and each move (anvil)',
    columns: ['what', 'detail', 'gas'],
    rows,
    notes: [
      'goal: <= 4 moves after open, every move <= 5,000,000 gas; "verify" rows are StepVerifier.evaluate for the op of that code reading the most inputs in recipes/small.json (inputs, proofs and calldata included)',
      'per-operation rows include the harness loop and its dispatch (~1.5k gas, see max); the dot rows are what a matmul element costs, proofs of its inputs come on top'
    ],
    figures
  }
}

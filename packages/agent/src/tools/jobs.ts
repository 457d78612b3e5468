import { z } from 'zod'
import { formatEther, type Hex } from 'viem'
import { allEvents, disputeGameAbi, hexToCid, readDispute, readJob, trainingMarketAbi } from '@commons/chain'
import { defineTool } from '../tool.ts'

const cid = (hex: Hex): string | null => hexToCid(hex)?.toString() ?? null

export const jobListTool = defineTool({
  name: 'job_list',
  description: 'The training jobs on the market: id, status, steps, reward, requester and trainer.',
  input: { limit: z.number().int().min(1).max(1000).optional().describe('at most this many, newest first (default 50)') },
  effect: 'read',
  run: async (ctx, args) => {
    const { clients, deployment } = await ctx.chain()
    const count = await clients.public.readContract({ address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'jobCount' })
    const jobs = []
    for (let id = count - 1n; id >= 0n && jobs.length < (args.limit ?? 50); id--) {
      const j = await readJob(clients, deployment, id)
      jobs.push({ id: id.toString(), status: j.statusName, steps: j.spec.steps, reward: formatEther(j.spec.reward), dataset: cid(j.spec.datasetCid), requester: j.requester, trainer: j.trainer })
    }
    return jobs
  }
})

export const jobShowTool = defineTool({
  name: 'job_show',
  description: 'One training job: the dataset it trained on, its recipe, trainer, model CID, who attested (checked) it, and its disputes with their winners.',
  input: { id: z.number().int().min(0).describe('the job id') },
  effect: 'read',
  run: async (ctx, args) => {
    const { clients, deployment } = await ctx.chain()
    const id = BigInt(args.id)
    const j = await readJob(clients, deployment, id)
    // In bounded windows from the deployment block: providers cap eth_getLogs ranges.
    const opened = await allEvents(clients, { address: deployment.contracts.disputeGame, abi: disputeGameAbi, eventName: 'DisputeOpened', args: { jobId: id }, fromBlock: BigInt(deployment.block) })
    const disputes = await Promise.all(opened.map(async e => {
      const d = await readDispute(clients, deployment, e.args.id as bigint)
      return { id: (e.args.id as bigint).toString(), challenger: d.challenger, winner: d.winner, reason: d.reasonName }
    }))
    const dataset = cid(j.spec.datasetCid)
    const checkedBy = j.attestors.length === 0 ? 'attested by no one yet' : `attested by ${j.attestors.join(', ')}`
    const disputed = disputes.length === 0 ? 'no disputes' : disputes.map(d => `dispute ${d.id} won by the ${d.winner}`).join(', ')
    return {
      id: args.id,
      status: j.statusName,
      dataset,
      recipe: cid(j.spec.recipeCid),
      steps: j.spec.steps,
      reward: formatEther(j.spec.reward),
      jobStake: formatEther(j.spec.jobStake),
      requester: j.requester,
      trainer: j.trainer,
      model: j.modelCid === '0x' ? null : cid(j.modelCid),
      transcriptRoot: j.transcriptRoot,
      attestors: j.attestors,
      disputes,
      // Said in words too, as price does: who checked the job is the question most asked of it.
      summary: `job ${args.id} (${j.statusName}) trained on dataset ${dataset} by ${j.trainer}; ${checkedBy}; ${disputed}`
    }
  }
})

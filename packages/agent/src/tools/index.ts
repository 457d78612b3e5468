import type { CommonsTool } from '../tool.ts'
import { priceTool } from './price.ts'
import { datasetListTool, datasetLogTool, datasetReadTool, datasetSearchTool } from './datasets.ts'
import { jobListTool, jobShowTool } from './jobs.ts'
import { daoProposalsTool } from './dao.ts'
import { knowledgePutTool, knowledgeSearchTool } from './knowledge.ts'
import { agentAskTool, agentsListTool } from './agents.ts'

/** Every tool of a Commons node, the same names and schemas over MCP and inside the agent. */
export const commonsTools: readonly CommonsTool[] = [
  priceTool,
  datasetListTool, datasetLogTool, datasetReadTool, datasetSearchTool,
  jobListTool, jobShowTool,
  daoProposalsTool,
  knowledgePutTool, knowledgeSearchTool,
  agentsListTool, agentAskTool
]

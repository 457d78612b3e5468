/**
 * The node's public face. A node is made of components and settings (createNode.ts,
 * as js-libp2p does it); startNode.ts makes the components under a home directory.
 */
export { createNode, type CommonsNode } from './createNode.ts'
export { startNode } from './startNode.ts'
export { NodeError, type DisputeReport, type NodeComponents, type NodeInit, type NodeOptions, type Role, type Service, type Timings } from './context.ts'
export { jobSpecFor, type ModelCheck, type PostJobParams } from './roles/requester.ts'
export { peerIdBytes } from './peerId.ts'
export { NodeLockedError } from './lock.ts'
export { stepsToCheck } from './roles/validator.ts'
export { startProvider, costOf, type AnswerFault, type InferenceAnswer, type InferenceRequest, type Provider, type ProviderInit } from './roles/provider.ts'
export { servedStateOf, startGenerationDefence, DefenceStateError, type GenerationDefence, type DefenceInit } from './generationDefence.ts'
export { checkAnswer, playGenerationDispute, replayModelOf, signedAnswer, AnswerCheckError, type AnswerCheck, type CheckOptions, type ReplayModel } from './generationCheck.ts'
export { loadServedModel, type ServedModel } from './servedModel.ts'
export { checkReceiptSignature, signReceipt, tokensHash, InvalidReceiptError, type Receipt, type SamplingParams } from './receipt.ts'
export { startInferenceHttp, chatPrompt, type InferenceHttpServer } from './openaiHttp.ts'
export { serveInference, requestInference, INFER_PROTOCOL, InferenceStreamError, RemoteInferenceError } from './inferProtocol.ts'
export { VoucherBook, type ChannelBook } from './voucherBook.ts'
export * from './inferenceErrors.ts'
export { startGenerationWorker, GenerationError, type GenerationWorker } from './generationWorker.ts'
export { startScorer, type Scorer, type ScorerInit, type ScorerComponents } from './roles/scorer.ts'
export { probeService, ProbePayer, type ProbeOutcome, type ProbeVerdict } from './probe.ts'
export { weightsFromScores, WEIGHT_SCALE, type ServiceScore } from './scoreWeights.ts'

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

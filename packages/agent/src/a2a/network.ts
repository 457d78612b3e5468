import type { NetworkNode } from '@commons/node'

/** What A2A needs of a node's network: gossip, request streams, and fetching by CID. */
export type A2aNetwork = Pick<NetworkNode, 'peerId' | 'multiaddrs' | 'publish' | 'subscribe' | 'onTopicPeer' | 'handle' | 'dialProtocol' | 'fetchDag'>

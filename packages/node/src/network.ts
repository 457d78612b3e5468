import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import * as dagCbor from '@ipld/dag-cbor'
import { bootstrap } from '@libp2p/bootstrap'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub, type GossipSub, type Message } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createHeliaLight } from 'helia'
import type { PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'
import type { CID } from 'multiformats/cid'
import { DEFAULT_LISTEN, GOSSIPSUB_OPTIONS } from './constants.ts'
import { DialError } from './errors.ts'
import { fetchDag, type FetchDagOptions, type FetchDagResult } from './fetchDag.ts'
import { toPrivateKey } from './nodeKey.ts'

export interface StartNetworkOptions {
  /**
   * Where blocks are served from and where fetched blocks land: the home's
   * blockstore (`openStore(home).blocks`). The caller opens and closes it.
   */
  blockstore: Blockstore
  /**
   * The node's identity, as stored protobuf bytes (see `createNodeKey`) or a key.
   * Without one the node gets a new peer id each start.
   */
  privateKey?: Uint8Array | PrivateKey
  /** Addresses to listen on; default `/ip4/127.0.0.1/tcp/0`. */
  listen?: string[]
  /** Multiaddrs, each ending in `/p2p/<peer id>`, dialled once shortly after start. */
  bootstrap?: string[]
  /** Peer store, pins and other node state; default in memory. */
  datastore?: Datastore
}

export type GossipHandler = (message: unknown, from: string) => void

export interface NetworkNode {
  peerId: string
  /** Addresses other nodes can dial, each ending in `/p2p/<peer id>`. */
  multiaddrs(): string[]
  /** Sends `message` as JSON to the topic's subscribers; best effort, as all gossip. */
  publish(topic: string, message: unknown): Promise<void>
  /** Calls `handler` with each JSON message on `topic` from other peers; returns an unsubscribe. */
  subscribe(topic: string, handler: GossipHandler): () => void
  /** Fetches every block reachable from `cid` into the blockstore, each checked against its CID. */
  fetchDag(cid: CID | string, options?: FetchDagOptions): Promise<FetchDagResult>
  connect(address: string): Promise<void>
  /** Peer ids of the open connections. */
  peers(): string[]
  /** Answers each stream of `protocol` with `handler` (request-response protocols: inference). */
  handle(protocol: string, handler: (stream: Stream, from: string) => void | Promise<void>): Promise<void>
  /** Opens a stream of `protocol` to `peer`: a multiaddr ending in /p2p/<peer id>, or the id of a known peer. */
  dialProtocol(peer: string, protocol: string): Promise<Stream>
  stop(): Promise<void>
}

interface Services extends Record<string, unknown> {
  identify: Identify
  pubsub: GossipSub
}

/**
 * Starts a node: libp2p (TCP, noise, yamux, identify, gossipsub, bootstrap) with Helia
 * and its bitswap on the same libp2p, serving and filling `options.blockstore`. Helia
 * is assembled from its parts (light core + libp2p + bitswap) rather than `createHelia`,
 * whose HTTP gateways and delegated routing would reach outside the network.
 */
export async function startNetwork (options: StartNetworkOptions): Promise<NetworkNode> {
  const privateKey = options.privateKey === undefined ? await generateKeyPair('Ed25519') : toPrivateKey(options.privateKey)
  const bootstrapList = options.bootstrap ?? []
  const core = createHeliaLight({
    blockstore: options.blockstore,
    datastore: options.datastore ?? new MemoryDatastore(),
    codecs: [dagCbor]
  })
  const helia = withBitswap(withLibp2pLight<typeof core, Services>(core, {
    privateKey,
    addresses: { listen: options.listen ?? DEFAULT_LISTEN },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: bootstrapList.length > 0 ? [bootstrap({ list: bootstrapList, timeout: 100 })] : [],
    services: {
      identify: identify(),
      pubsub: gossipsub(GOSSIPSUB_OPTIONS)
    }
  }))
  await helia.start()
  const libp2p = helia.libp2p
  const pubsub = libp2p.services.pubsub

  const handlers = new Map<string, Set<GossipHandler>>()
  const onMessage = (event: CustomEvent<Message>): void => {
    const message = event.detail
    const topicHandlers = handlers.get(message.topic)
    if (topicHandlers === undefined) return
    let value: unknown
    try {
      value = JSON.parse(new TextDecoder().decode(message.data))
    } catch {
      return // not ours to read: gossip carries only JSON
    }
    const from = message.type === 'signed' ? message.from.toString() : ''
    for (const handler of topicHandlers) handler(value, from)
  }
  pubsub.addEventListener('message', onMessage)

  return {
    peerId: libp2p.peerId.toString(),
    multiaddrs: () => libp2p.getMultiaddrs().map(address => address.toString()),
    async publish (topic, message) {
      await pubsub.publish(topic, new TextEncoder().encode(JSON.stringify(message)))
    },
    subscribe (topic, handler) {
      let topicHandlers = handlers.get(topic)
      if (topicHandlers === undefined) {
        topicHandlers = new Set()
        handlers.set(topic, topicHandlers)
        pubsub.subscribe(topic)
      }
      const own = topicHandlers
      // A wrapper, so one handler subscribed twice gets two independent subscriptions.
      const entry: GossipHandler = (message, from) => { handler(message, from) }
      own.add(entry)
      return () => {
        if (!own.delete(entry) || own.size > 0 || handlers.get(topic) !== own) return
        handlers.delete(topic)
        pubsub.unsubscribe(topic)
      }
    },
    fetchDag: async (cid, fetchOptions) => fetchDag(helia, cid, fetchOptions),
    async connect (address) {
      try {
        await libp2p.dial(multiaddr(address))
      } catch (cause) {
        throw new DialError(`could not connect to ${address}`, {
          hint: 'check that the peer is running and that the address ends in /p2p/<its peer id>',
          details: { address },
          cause
        })
      }
    },
    peers: () => libp2p.getPeers().map(peer => peer.toString()),
    async handle (protocol, handler) {
      await libp2p.handle(protocol, async (stream, connection) => { await handler(stream, connection.remotePeer.toString()) })
    },
    async dialProtocol (peer, protocol) {
      try {
        return await libp2p.dialProtocol(peer.startsWith('/') ? multiaddr(peer) : peerIdFromString(peer), protocol)
      } catch (cause) {
        throw new DialError(`could not open ${protocol} to ${peer}`, {
          hint: 'check that the peer is running and serves it; a multiaddr must end in /p2p/<its peer id>', details: { peer, protocol }, cause
        })
      }
    },
    async stop () {
      pubsub.removeEventListener('message', onMessage)
      handlers.clear()
      await helia.stop()
    }
  }
}

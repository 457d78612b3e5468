import { applyHeapSettings } from './heapSettings.ts'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import * as dagCbor from '@ipld/dag-cbor'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Message, SubscriptionChangeData } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createHeliaLight } from 'helia'
import type { Connection, Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import type { SingleKadDHT } from '@libp2p/kad-dht'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { DialError, ProvideError } from './errors.ts'
import { BITSWAP_OPTIONS, PROVIDE_TIMEOUT_MS } from './constants.ts'
import { serveDagStream } from './dagStream.ts'
import { fetchDag, parseRoot, type FetchDagOptions, type FetchDagResult } from './fetchDag.ts'
import { libp2pConfig, type Services } from './libp2pConfig.ts'
import { fetchWholeDag } from './fetchWholeDag.ts'
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
  /** Addresses to listen on; default `/ip4/127.0.0.1/tcp/0` (`LISTEN_ALL`: every interface). */
  listen?: string[]
  /** Multiaddrs, each ending in `/p2p/<peer id>`, dialled once shortly after start. */
  bootstrap?: string[]
  /**
   * Serve and use whole-DAG streams between Commons nodes (dagStream.ts); default true.
   * Off, a node fetches block by block over bitswap only, as any IPFS node would.
   */
  dagStream?: boolean
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
  /** Calls `handler` with the peer id of each peer that subscribes to `topic` (a newcomer: what was published before missed it); returns an unsubscribe. */
  onTopicPeer(topic: string, handler: (peer: string) => void): () => void
  /**
   * Fetches every block reachable from `cid` into the blockstore, each checked against
   * its CID, then provides `cid` in the DHT.
   */
  fetchDag(cid: CID | string, options?: FetchDagOptions): Promise<FetchDagResult>
  connect(address: string): Promise<void>
  /**
   * Announces in the DHT that this node holds `cid` (and keeps re-announcing it before
   * the record expires). Resolves once the record is stored on the closest peers found;
   * rejects when no DHT peer could take it.
   */
  provide(cid: CID | string, options?: { signal?: AbortSignal }): Promise<void>
  /** Peer ids the DHT names as holding `cid`, as they are found. */
  findProviders(cid: CID | string, options?: { signal?: AbortSignal }): AsyncIterable<string>
  /** Peer ids of the open connections. */
  peers(): string[]
  /** Answers each stream of `protocol` with `handler` (request-response protocols: inference). */
  handle(protocol: string, handler: (stream: Stream, from: string) => void | Promise<void>): Promise<void>
  /** Opens a stream of `protocol` to `peer`: a multiaddr ending in /p2p/<peer id>, or the id of a known peer. */
  dialProtocol(peer: string, protocol: string): Promise<Stream>
  stop(): Promise<void>
}

/**
 * Starts a node: libp2p as `libp2pConfig` assembles it (TCP, WebSockets, relay client,
 * identify, ping, AutoNAT, the DHT, gossipsub) with Helia and its bitswap on the same
 * libp2p, serving and filling `options.blockstore`. Bitswap asks Helia's routing, and
 * so the DHT, for providers of every block it wants, so a CID no connected peer holds
 * is still found if anyone provided it; between Commons nodes a whole DAG moves in one
 * stream instead (dagStream.ts), bitswap fetching only what that left missing. Helia
 * is assembled from its parts (light core + libp2p + bitswap) rather than `createHelia`,
 * whose HTTP gateways and delegated routing would reach outside the network.
 */
export async function startNetwork (options: StartNetworkOptions): Promise<NetworkNode> {
  applyHeapSettings()
  const privateKey = options.privateKey === undefined ? await generateKeyPair('Ed25519') : toPrivateKey(options.privateKey)
  const core = createHeliaLight({
    blockstore: options.blockstore,
    datastore: options.datastore ?? new MemoryDatastore(),
    codecs: [dagCbor]
  })
  const helia = withBitswap(withLibp2pLight<typeof core, Services>(core, libp2pConfig({
    privateKey, listen: options.listen, bootstrap: options.bootstrap
  })), BITSWAP_OPTIONS)
  await helia.start()
  const libp2p = helia.libp2p
  const dagStream = options.dagStream ?? true
  if (dagStream) await serveDagStream(libp2p, options.blockstore)
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

  const announced = new Set<string>()
  const node: NetworkNode = {
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
    onTopicPeer (topic, handler) {
      const onChange = (event: CustomEvent<SubscriptionChangeData>): void => {
        if (event.detail.subscriptions.some(s => s.topic === topic && s.subscribe)) handler(event.detail.peerId.toString())
      }
      pubsub.addEventListener('subscription-change', onChange)
      return () => { pubsub.removeEventListener('subscription-change', onChange) }
    },
    async fetchDag (cid, fetchOptions) {
      const root = parseRoot(cid)
      const streamed = !dagStream || await options.blockstore.has(root) ? null : await fetchWholeDag(libp2p, root, options.blockstore, fetchOptions)
      const result = streamed ?? await fetchDag(helia, root, fetchOptions)
      // The node holds it now: say so in the DHT, once, in the background (best effort, as
      // any announcement; the DHT re-provides it from then on).
      const key = root.toString()
      if (!announced.has(key)) {
        announced.add(key)
        node.provide(root).catch(() => { announced.delete(key) })
      }
      return result
    },
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
    async provide (cid, provideOptions) {
      // A lookup with no DHT peer to start from waits for one instead of failing (kadDHT()
      // makes a single DHT, whose routing table its factory's type does not show).
      if ((libp2p.services.dht as Partial<SingleKadDHT>).routingTable?.size === 0) {
        throw new ProvideError(`no DHT peer to take the provider record of ${String(cid)}`, {
          hint: 'connect to a peer (--bootstrap) and try again; the announcer retries on its own'
        })
      }
      const limit = AbortSignal.timeout(PROVIDE_TIMEOUT_MS)
      await libp2p.contentRouting.provide(toCid(cid), { signal: provideOptions?.signal === undefined ? limit : AbortSignal.any([limit, provideOptions.signal]) })
    },
    async * findProviders (cid, findOptions) {
      for await (const provider of libp2p.contentRouting.findProviders(toCid(cid), findOptions)) yield provider.id.toString()
    },
    peers: () => libp2p.getPeers().map(peer => peer.toString()),
    async handle (protocol, handler) {
      await libp2p.handle(protocol, async (stream, connection) => { await handler(stream, connection.remotePeer.toString()) })
    },
    async dialProtocol (peer, protocol) {
      try {
        const address = peer.startsWith('/') ? multiaddr(peer) : undefined
        const settled = oldestConnection(libp2p, address === undefined ? peer : address.getComponents().findLast(c => c.name === 'p2p')?.value)
        return settled === undefined ? await libp2p.dialProtocol(address ?? peerIdFromString(peer), protocol) : await settled.newStream(protocol)
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
  return node
}

/**
 * The open, unlimited connection to `peer` that was opened first. libp2p's own choice
 * among several can fall on the newest, which is often one the peer opened only to
 * check a dial (an AutoNAT server dials back, then hangs up): a request sent over it
 * while the peer closes it is reset before a word of answer. The oldest is the one a
 * request was meant to use.
 */
function oldestConnection (libp2p: Pick<Libp2p, 'getConnections'>, peer: string | undefined): Connection | undefined {
  if (peer === undefined) return undefined
  return libp2p.getConnections(peerIdFromString(peer))
    .filter(c => c.status === 'open' && c.limits == null)
    .sort((a, b) => a.timeline.open - b.timeline.open)[0]
}

const toCid = (cid: CID | string): CID => typeof cid === 'string' ? CID.parse(cid) : cid

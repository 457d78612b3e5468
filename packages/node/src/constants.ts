import type { GossipsubOpts } from '@libp2p/gossipsub'

/** The gossip topics of Commons; the trailing number is the message format's version. */
export const TOPICS = {
  jobs: 'commons/jobs/1',
  results: 'commons/results/1',
  checkpoints: 'commons/checkpoints/1'
} as const

/** Loopback on a free port: a node is private unless told to listen wider. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

/**
 * `--listen all`: every interface, IPv4 and IPv6, on TCP 4001 (the port IPFS nodes use),
 * WebSockets on TCP 4002 and WebRTC-Direct on UDP 4001, the two a browser can dial (the
 * latter with no TLS certificate for the node).
 */
export const LISTEN_ALL = [
  '/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001',
  '/ip4/0.0.0.0/tcp/4002/ws', '/ip6/::/tcp/4002/ws',
  '/ip4/0.0.0.0/udp/4001/webrtc-direct', '/ip6/::/udp/4001/webrtc-direct'
]

/** The public IPFS (Amino) DHT's protocol: Commons nodes provide into the same DHT as Kubo and Helia. */
export const DHT_PROTOCOL = '/ipfs/kad/1.0.0'

/** Longest a provide may take: a record no DHT peer took in this time is tried again later. */
export const PROVIDE_TIMEOUT_MS = 60_000

/** Milliseconds between an announcer's looks for versions the node holds but has not provided yet. */
export const DEFAULT_ANNOUNCE_INTERVAL_MS = 15_000

/** Milliseconds between a node's looks at the chain: an idle node asks once a second. */
export const DEFAULT_POLL_MS = 1_000

/** Blocks an event must be under before a node acts on it (a devnet's 0; use 2+ on a public chain). */
export const DEFAULT_CONFIRMATIONS = 0

/** Most blocks one eth_getLogs spans: what capped providers allow. */
export const DEFAULT_LOG_RANGE = 1_000

/** Milliseconds a block of a job's recipe or dataset may take to arrive. */
export const DEFAULT_JOB_FETCH_TIMEOUT_MS = 60_000

/** Validator: milliseconds to wait for the trainer's announced op trace before forcing its values out on-chain. */
export const DEFAULT_TRACE_WAIT_MS = 60_000

/** Validator: default chance that its drawn steps include any one given step (README: economics). */
export const DEFAULT_CHECK_PROBABILITY = 0.1

/** How long one block may take to arrive before a fetch gives up. */
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000

/** Whole-DAG transfer between Commons nodes (dagStream.ts): a root asked, the DAG sent back as a CAR. */
export const DAG_PROTOCOL = '/commons/dag/1.0.0'

/** Bytes gathered before one send on a DAG stream: a few muxer frames' worth, not one per CAR piece. */
export const DAG_STREAM_BATCH_BYTES = 1 << 20

/** Blocks the holder reads from its store ahead of the one it sends (reads overlap sends). */
export const DAG_STREAM_READ_AHEAD = 32

/**
 * Bytes of a DAG stream the fetcher lets queue unread before it pauses the stream (the
 * muxer then stops granting the holder window, and the holder waits): memory stays
 * bounded however far the network outruns checking and storing.
 */
export const DAG_STREAM_BUFFER_BYTES = 8 << 20

/** Connected peers asked in turn for a whole DAG before the DHT is asked who provides it. */
export const DAG_STREAM_PEERS = 8

/** Providers the DHT names that are asked in turn for a whole DAG before the rest is left to bitswap. */
export const DHT_PROVIDERS_TRIED = 3

/** Longest DHT lookup for providers of a DAG no connected peer holds whole. */
export const DHT_LOOKUP_TIMEOUT_MS = 5_000

/**
 * Bitswap waits 10 ms by default before sending a want-list or a batch of blocks, to
 * gather more into one message; a DAG walk already sends its wants in batches of
 * `FETCH_CONCURRENCY`, so the wait only adds latency to every round (1 ms keeps a
 * little batching).
 */
export const BITSWAP_OPTIONS = { sendWantlistDebounce: 1, sendBlocksDebounce: 1 }

/** Blocks wanted at once while walking a DAG: enough to fill a bitswap round trip. */
export const FETCH_CONCURRENCY = 32

/**
 * Gossipsub tuned for networks of a handful of peers (a lab, a test, a new community)
 * that must still behave on larger ones:
 * - `floodPublish`: our own messages go to every peer subscribed to the topic, not only
 *   to mesh peers, so a message needs no formed mesh, only a known subscription;
 * - `allowPublishToZeroTopicPeers`: a node alone on a topic may publish (the message is
 *   dropped) instead of throwing; delivery is best effort, as in any gossip;
 * - D = 4, Dlo = 2, Dhi = 8, Dout = 1, Dscore = 2: a mesh of 2 or 3 peers is "enough"
 *   (the defaults 6/4/12 keep a small network grafting forever); Dout < Dlo and
 *   Dout <= D / 2 as gossipsub requires;
 * - `emitSelf: false`: a node does not hear its own messages.
 */
export const GOSSIPSUB_OPTIONS: Partial<GossipsubOpts> = {
  floodPublish: true,
  allowPublishToZeroTopicPeers: true,
  emitSelf: false,
  D: 4,
  Dlo: 2,
  Dhi: 8,
  Dout: 1,
  Dscore: 2
}

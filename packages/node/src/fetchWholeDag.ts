import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { DAG_STREAM_PEERS, DEFAULT_FETCH_TIMEOUT_MS, DHT_LOOKUP_TIMEOUT_MS, DHT_PROVIDERS_TRIED } from './constants.ts'
import { fetchDagStream } from './dagStream.ts'
import type { FetchDagOptions, FetchDagResult } from './fetchDag.ts'

export type FetchWholeDagComponents = Pick<Libp2p, 'dial' | 'dialProtocol' | 'getPeers' | 'contentRouting'>

/**
 * The whole DAG under `root` in one stream (dagStream.ts): from the connected peers
 * first (up to `DAG_STREAM_PEERS`, in turn), then, if none holds it all, from providers
 * the DHT names (up to `DHT_PROVIDERS_TRIED`, each dialled at the addresses its record
 * gives). Returns null when none delivered it whole; bitswap then fetches what is still
 * missing. A provider that is not a Commons node (Kubo, Helia) does not speak the
 * protocol and is skipped here, but stays connected, so bitswap can ask it.
 */
export async function fetchWholeDag (
  libp2p: FetchWholeDagComponents, root: CID, blockstore: Pick<Blockstore, 'put'>, options: FetchDagOptions = {}
): Promise<FetchDagResult | null> {
  const tried = new Set<string>()
  const attempt = async (peer: PeerId): Promise<FetchDagResult | null> => {
    tried.add(peer.toString())
    const got = await fetchDagStream(libp2p, peer, root, blockstore, { signal: options.signal, timeoutMs: options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS })
    return got.complete ? { blocks: got.blocks, bytes: got.bytes } : null
  }
  for (const peer of libp2p.getPeers().slice(0, DAG_STREAM_PEERS)) {
    const whole = await attempt(peer)
    if (whole !== null) return whole
  }
  const lookup = AbortSignal.any([AbortSignal.timeout(DHT_LOOKUP_TIMEOUT_MS), ...(options.signal === undefined ? [] : [options.signal])])
  let providers = 0
  try {
    for await (const provider of libp2p.contentRouting.findProviders(root, { signal: lookup })) {
      if (tried.has(provider.id.toString())) continue
      if (++providers > DHT_PROVIDERS_TRIED) break
      if (!await dialed(libp2p, provider.id, provider.multiaddrs)) continue
      const whole = await attempt(provider.id)
      if (whole !== null) return whole
    }
  } catch {
    // No DHT peer to ask, or the lookup ran out of time: bitswap has the last word.
  }
  if (options.signal?.aborted === true) throw options.signal.reason
  return null
}

async function dialed (libp2p: Pick<Libp2p, 'dial'>, peer: PeerId, addresses: Multiaddr[]): Promise<boolean> {
  try {
    await libp2p.dial(addresses.length > 0 ? addresses : peer)
    return true
  } catch {
    return false
  }
}

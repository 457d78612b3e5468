import { autoNAT } from '@libp2p/autonat'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper, type KadDHT } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'
import { DEFAULT_LISTEN, DHT_PROTOCOL, GOSSIPSUB_OPTIONS } from './constants.ts'
import { noiseCrypto } from './noiseCrypto.ts'

export interface Services extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  dht: KadDHT
  autoNAT: unknown
}

export interface Libp2pConfigInit {
  privateKey: PrivateKey
  listen?: string[]
  bootstrap?: string[]
}

/**
 * libp2p as IPFS nodes expect to meet it: TCP, WebSockets and WebRTC-Direct (the last
 * two are what browsers dial), circuit relay v2 as a client (to reach and be reached
 * through relays), noise, yamux, identify, ping,
 * AutoNAT, the Amino Kademlia DHT (`/ipfs/kad/1.0.0`, the one Kubo and Helia use) and
 * gossipsub. How the DHT behaves follows where the node listens:
 * - only on loopback or private addresses (the default, tests, the demo, a lab): a DHT
 *   server from the start, and peers' private addresses are kept, since they are the
 *   only ones there are;
 * - on a public or wildcard address (`commons node start --listen all`): AutoNAT decides
 *   between client and server mode, private addresses from peers are dropped (as on the
 *   public network), and `/p2p-circuit` asks relays for a reservation in case the node
 *   turns out to be unreachable behind a NAT.
 */
export function libp2pConfig (init: Libp2pConfigInit): Libp2pOptions<Services> {
  const listen = init.listen ?? DEFAULT_LISTEN
  const open = listen.some(address => !isPrivateListen(address))
  const bootstrapList = init.bootstrap ?? []
  return {
    privateKey: init.privateKey,
    addresses: { listen: open ? [...listen, '/p2p-circuit'] : listen },
    transports: [tcp(), webSockets(), webRTCDirect(), circuitRelayTransport()],
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux()],
    peerDiscovery: bootstrapList.length > 0 ? [bootstrap({ list: bootstrapList, timeout: 100 })] : [],
    services: {
      identify: identify(),
      ping: ping(),
      autoNAT: autoNAT(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: open ? undefined : false,
        peerInfoMapper: open ? removePrivateAddressesMapper : passthroughMapper
      }),
      pubsub: gossipsub(GOSSIPSUB_OPTIONS)
    }
  }
}

/** Whether a listen address keeps the node off the public internet (loopback or a private range). */
function isPrivateListen (address: string): boolean {
  const host = multiaddr(address).getComponents().find(c => c.name === 'ip4' || c.name === 'ip6' || c.name === 'dns' || c.name === 'dns4' || c.name === 'dns6')
  if (host?.value === undefined) return true
  const value = host.value
  if (value === 'localhost' || value === '::1' || value.startsWith('127.')) return true
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|f[cd][0-9a-f]{2}:)/i.test(value)
}

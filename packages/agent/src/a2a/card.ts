import { verifyMessage, type Address, type Hex, type LocalAccount } from 'viem'
import { z } from 'zod'

/** The libp2p protocol a Commons agent answers tasks on (taskProtocol.ts). */
export const A2A_PROTOCOL = '/commons/a2a/1.0.0'
/** The gossip topic agent cards travel on. */
export const AGENT_CARDS_TOPIC = 'commons/agent-cards/1'
/** The protocolBinding a card names for its libp2p endpoint. */
export const LIBP2P_BINDING = 'COMMONS-LIBP2P'

/** A2A's agent card, the fields Commons fills (names as in A2A 1.0's AgentCard). */
export interface A2aCard {
  name: string
  description: string
  version: string
  supportedInterfaces: Array<{ url: string, protocolBinding: string, protocolVersion: string }>
  capabilities: { streaming: boolean }
  defaultInputModes: string[]
  defaultOutputModes: string[]
  skills: Array<{ id: string, name: string, description: string, tags: string[], examples: string[] }>
}

/**
 * A card as gossiped: A2A's card, the peer and account it speaks for, when, and the
 * account's EIP-191 signature over all of it. A receiver also checks that the gossip
 * message came from `peerId` (gossipsub signs each message with the peer's key), so
 * the card binds both keys of the node.
 */
export interface SignedAgentCard {
  card: A2aCard
  peerId: string
  address: Address
  multiaddrs: string[]
  /** Seconds since the Unix epoch; a newer card replaces an older one. */
  time: number
  signature: Hex
}

const short = z.string().max(200)
const cardSchema = z.object({
  name: short.min(1),
  description: z.string().max(2000),
  version: short,
  supportedInterfaces: z.array(z.object({ url: z.string().max(500), protocolBinding: short, protocolVersion: short })).max(10),
  capabilities: z.object({ streaming: z.boolean() }),
  defaultInputModes: z.array(short).max(10),
  defaultOutputModes: z.array(short).max(10),
  skills: z.array(z.object({ id: short, name: short, description: z.string().max(2000), tags: z.array(short).max(20), examples: z.array(z.string().max(500)).max(10) })).max(50)
})
const signedSchema = z.object({
  card: cardSchema,
  peerId: short.min(1),
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  multiaddrs: z.array(z.string().max(500)).max(20),
  time: z.number().int().nonnegative(),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/)
})

/** JSON with keys sorted at every level: the bytes signer and verifier both rebuild. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

function cardMessage (card: Omit<SignedAgentCard, 'signature'>): string {
  return canonicalJson({ commonsAgentCard: 1, card: card.card, peerId: card.peerId, address: card.address, multiaddrs: card.multiaddrs, time: card.time })
}

/** The card of a Commons node's agent: its tools as A2A skills, its libp2p endpoint, and an HTTP one if served. */
export function commonsCard (fields: { name: string, description?: string, peerId: string, httpUrl?: string, skills: A2aCard['skills'] }): A2aCard {
  return {
    name: fields.name,
    description: fields.description ?? 'A Commons node\'s agent: answers from the node\'s datasets, jobs, DAOs, price feed and shared notes, citing notes by CID.',
    version: '1.0.0',
    supportedInterfaces: [
      { url: `libp2p:/p2p/${fields.peerId}${A2A_PROTOCOL}`, protocolBinding: LIBP2P_BINDING, protocolVersion: '1.0' },
      ...fields.httpUrl === undefined ? [] : [{ url: fields.httpUrl, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }]
    ],
    capabilities: { streaming: true },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: fields.skills
  }
}

export async function signCard (account: LocalAccount, fields: { card: A2aCard, peerId: string, multiaddrs: string[], time?: number }): Promise<SignedAgentCard> {
  const unsigned = { card: fields.card, peerId: fields.peerId, address: account.address, multiaddrs: fields.multiaddrs, time: fields.time ?? Math.floor(Date.now() / 1000) }
  return { ...unsigned, signature: await account.signMessage({ message: cardMessage(unsigned) }) }
}

/**
 * The card if it is well formed, signed by its address, and came from the peer it
 * names (`from`, the gossip message's signer); else why not. A forged card is dropped.
 */
export async function checkCard (value: unknown, from: string): Promise<{ card: SignedAgentCard } | { refused: string }> {
  const parsed = signedSchema.safeParse(value)
  if (!parsed.success) return { refused: 'not an agent card' }
  const card = parsed.data as SignedAgentCard
  if (card.peerId !== from) return { refused: `card for ${card.peerId} sent by ${from === '' ? 'an unsigned message' : from}` }
  if (card.time > Math.floor(Date.now() / 1000) + 300) return { refused: 'card dated in the future' }
  let ok = false
  try {
    ok = await verifyMessage({ address: card.address, message: cardMessage(card), signature: card.signature })
  } catch {}
  return ok ? { card } : { refused: `signature is not ${card.address}'s` }
}

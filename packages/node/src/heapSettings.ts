import { setFlagsFromString } from 'node:v8'

/**
 * V8's heap settings for a process that runs a node (startNetwork applies them; they
 * hold for the whole process, and applying them twice is harmless).
 *
 * Buffers live outside V8's heap ("external memory"), and by default V8 runs a full
 * garbage collection each time 64 MiB more of it has been allocated since the last,
 * whatever the heap holds. A node moving data allocates Buffers all the time (socket
 * reads, decrypted noise frames, yamux frames), so it marked its whole heap every few
 * tens of MB it moved. With this flag external memory counts toward the heap's own,
 * growing limit instead; Buffers dropped young are still freed by minor collections.
 * Measured (docs/network.md): 2 GB of 64 KiB Buffers over a 50 MB live heap took 22
 * full collections and 1.5 CPU s by default, 1 and 0.16 s with it, at the same RSS; the
 * receiver of a 100 MB bare libp2p stream used 0.72 CPU s, then 0.22. Not applied to a
 * commit (no node): its batches stay alive until written, so there the flag let
 * garbage batches pile up (peak RSS of a 5 GB commit 1.13 GB against 0.70).
 */
export function applyHeapSettings (): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit')
}

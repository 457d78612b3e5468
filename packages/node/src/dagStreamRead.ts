import { Uint8ArrayList } from 'uint8arraylist'
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'

/** What the CAR library's decoder reads from (`createDecoder` in `@ipld/car/decoder`). */
export interface StreamBytesReader {
  upTo(length: number): Promise<Uint8Array>
  exactly(length: number, seek?: boolean): Promise<Uint8Array>
  seek(length: number): void
  /** The next `length` bytes as views of the chunks that carry them (none copied), read past. */
  take(length: number): Promise<Uint8Array[]>
  readonly pos: number
  /** Bytes received and not yet read. */
  readonly buffered: number
  /** Stops listening to the stream. */
  release(): void
}

/**
 * The bytes a stream receives, read in place, with backpressure; the CAR library's
 * decoder parses them. Received chunks are kept as they came (a list, not copied into
 * one buffer): `take` hands out a block's bytes as views of the chunks that carry them,
 * and `exactly` copies only what spans chunks; the library's own stream reader copies every chunk
 * into a new buffer at each boundary, and iterating a libp2p stream joins what queued
 * up while the reader was busy into one more copy.
 *
 * Iterating a libp2p stream also queues whatever arrives, without bound, however slowly
 * it is read. Here, once `highWaterBytes` wait unread the stream is paused (the muxer
 * stops granting the sender window, so the sender waits), and resumed once the reader
 * has caught up to half of that. A reset or aborted stream throws its error.
 */
export function streamBytesReader (stream: Stream, highWaterBytes: number): StreamBytesReader {
  // While paused, the muxer keeps what the sender had already been granted (up to its
  // largest window) in the stream's own buffer, which resets the stream when it overflows.
  stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, highWaterBytes + MAX_MUXER_WINDOW)
  const list = new Uint8ArrayList()
  let pos = 0
  let closed: { error?: Error } | undefined
  let wake: (() => void) | undefined
  const notify = (): void => { wake?.(); wake = undefined }
  const pauseIfFull = (): void => {
    if (list.byteLength >= highWaterBytes && stream.readStatus === 'readable') stream.pause()
  }
  /** Set while the stream hands over, inside resume(), what it held while paused. */
  let resuming = false
  // A stream's resume() hands over what it held, then tells the muxer to grant the sender
  // window again. Paused in between (the bytes handed over fill the reader past its mark),
  // the muxer would be told to pause and then to go on, and would grant window for every
  // frame from then on while the stream holds them, until it overflowed and reset (seen
  // whenever a fetcher waited on anything between reads). So the pause comes after the resume.
  const resume = (): void => {
    resuming = true
    try {
      stream.resume()
    } finally {
      resuming = false
    }
    pauseIfFull()
  }
  const onMessage = (event: StreamMessageEvent): void => {
    list.append(event.data)
    if (!resuming) pauseIfFull()
    notify()
  }
  const onEnd = (): void => { closed ??= {}; notify() }
  const onClose = (event: StreamCloseEvent): void => { closed = { error: event.error ?? closed?.error }; notify() }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('end', onEnd)
  stream.addEventListener('close', onClose)
  if (stream.readableEnded) onEnd()

  /**
   * Waits until `length` bytes are buffered or the stream has ended. A read of more than
   * the reader buffers is refused: lengths come from the sender (a CAR header's, a
   * block's), and waiting for such a one would buffer without bound at its word.
   */
  const fill = async (length: number): Promise<void> => {
    if (length > highWaterBytes) throw new Error(`the stream announces ${length} bytes at once, more than the ${highWaterBytes} a reader buffers`)
    while (list.byteLength < length) {
      if (stream.readStatus === 'paused') {
        // What the stream held comes now (and it pauses again only once `length` are here): look again.
        resume()
        continue
      }
      if (closed !== undefined) {
        if (closed.error !== undefined) throw closed.error
        return
      }
      await new Promise<void>(resolve => { wake = resolve })
    }
  }
  const consume = (length: number): void => {
    list.consume(length)
    pos += length
    if (list.byteLength <= highWaterBytes / 2 && stream.readStatus === 'paused') resume()
  }
  return {
    async upTo (length) {
      await fill(length)
      return list.subarray(0, Math.min(length, list.byteLength))
    },
    async exactly (length, seek = false) {
      await fill(length)
      if (list.byteLength < length) throw new Error('Unexpected end of data')
      const out = list.subarray(0, length)
      if (seek) consume(length)
      return out
    },
    seek: consume,
    async take (length) {
      await fill(length)
      if (list.byteLength < length) throw new Error('Unexpected end of data')
      const parts = [...list.sublist(0, length)]
      consume(length)
      return parts
    },
    get pos () { return pos },
    get buffered () { return list.byteLength },
    release () {
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('end', onEnd)
      stream.removeEventListener('close', onClose)
    }
  }
}

/** yamux's largest stream window (its default maxStreamWindowSize, which libp2pConfig keeps). */
const MAX_MUXER_WINDOW = 16 << 20

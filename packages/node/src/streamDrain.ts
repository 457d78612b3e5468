import type { Stream } from '@libp2p/interface'

/**
 * Sends `data` and, if the stream says its buffers are full, waits for the stream's next
 * 'drain' event (rejecting if it closes first). Not `stream.onDrain()`: in
 * @libp2p/utils 7.4 its promise is made once and never replaced, so after a stream's
 * first drain it resolves at once, and a sender that awaits it queues everything it has
 * in memory at the speed of its disk, whatever the network and the receiver take.
 */
export async function sendWithBackpressure (stream: Stream, data: Parameters<Stream['send']>[0]): Promise<void> {
  if (stream.send(data)) return
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => { stream.removeEventListener('close', onClose); resolve() }
    const onClose = (event: Event): void => {
      stream.removeEventListener('drain', onDrain)
      reject((event as Event & { error?: Error }).error ?? new Error('the stream closed before it drained'))
    }
    stream.addEventListener('drain', onDrain, { once: true })
    stream.addEventListener('close', onClose, { once: true })
  })
}

/**
 * A request body's chunks as they arrive. A Readable's own async iterator calls read(), which
 * joins everything buffered into one new Buffer: an allocation and a copy of up to the stream's
 * highWaterMark per read, for bytes the writer copies into a shard buffer anyway. This reads in
 * flowing mode instead, handing over the chunks as they were pushed, and pauses the stream while
 * more than `bufferedBytesMax` wait for the consumer (backpressure, bounded memory).
 *
 * Same outcomes as the async iterator: the stream's error is thrown, a close before the end is
 * ERR_STREAM_PREMATURE_CLOSE, and a consumer that stops early destroys the stream.
 */
import { Readable } from 'node:stream';

export async function* bodyChunks(body: AsyncIterable<Buffer>, bufferedBytesMax = 1024 * 1024): AsyncGenerator<Buffer> {
  if (!(body instanceof Readable)) {
    yield* body;
    return;
  }
  const queue: Buffer[] = [];
  let queuedBytes = 0;
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (chunk: Buffer): void => {
    queue.push(chunk);
    queuedBytes += chunk.length;
    if (queuedBytes >= bufferedBytesMax) body.pause();
    notify();
  };
  const onEnd = (): void => {
    ended = true;
    notify();
  };
  const onError = (err: unknown): void => {
    failure ??= err;
    notify();
  };
  const onClose = (): void => {
    if (!ended) failure ??= Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    notify();
  };
  body.on('data', onData);
  body.on('end', onEnd);
  body.on('error', onError);
  body.on('close', onClose);
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        queuedBytes -= chunk.length;
        if (queuedBytes < bufferedBytesMax && body.isPaused() && failure === undefined) body.resume();
        yield chunk;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onError);
    body.off('close', onClose);
    if (!ended) body.destroy();
  }
}

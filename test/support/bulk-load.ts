/**
 * Fills a bucket by publishing ObjectVersionPut events straight to the log (no HTTP, no shards:
 * empty inline bodies), with a bounded window of publishes in flight. For tests and benchmarks of
 * listing at scale: 1,000,000 keys in tens of seconds instead of 1,000,000 PUTs.
 */
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeEvent } from '../../src/events/codec.ts';
import { objectSubject } from '../../src/events/subjects.ts';
import type { StrataEvent } from '../../src/events/types.ts';

export interface BulkLoadResult {
  readonly events: number;
  readonly lastSeq: number;
  readonly elapsedMs: number;
}

/** `user-XXXX/photos/YYYY/NNN.jpg`: `users` top-level prefixes, `perUser` keys each. */
export function hierarchyKey(i: number, perUser: number): string {
  const user = Math.floor(i / perUser);
  const n = i % perUser;
  const year = 2000 + (n % 10);
  return `user-${String(user).padStart(5, '0')}/photos/${year}/${String(n).padStart(4, '0')}.jpg`;
}

export async function bulkLoad(nc: NatsConnection, bucket: string, count: number, keyOf: (i: number) => string, windowMax = 4096): Promise<BulkLoadResult> {
  const js = jetstream(nc);
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let lastSeq = 0;
  let failure: unknown;
  for (let i = 0; i < count; i++) {
    if (failure) throw failure;
    const key = keyOf(i);
    const ev: StrataEvent = {
      eventId: `bulk-${bucket}-${i}`,
      timeMs: started,
      bucket,
      key,
      versionId: 'null',
      actor: 'bulk',
      requestId: 'bulk',
      sourceAddress: '',
      body: {
        type: 'ObjectVersionPut', size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e', contentType: '', contentEncoding: '',
        contentDisposition: '', contentLanguage: '', cacheControl: '', expires: '', userMetadata: {}, shards: [],
        inlineData: undefined, checksums: [], storageClass: 'STANDARD', parts: [],
      },
    };
    const p = js
      .publish(objectSubject(bucket, key), encodeEvent(ev), { msgID: ev.eventId, timeout: 60_000 })
      .then((ack) => {
        if (ack.seq > lastSeq) lastSeq = ack.seq;
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= windowMax) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  return { events: count, lastSeq, elapsedMs: Date.now() - started };
}

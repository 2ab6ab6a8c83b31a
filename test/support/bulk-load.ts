/**
 * Fills a bucket by publishing ObjectVersionPut events straight to the log (no HTTP, no shards:
 * empty inline bodies), with a bounded window of publishes in flight. For tests and benchmarks of
 * listing at scale: 1,000,000 keys in tens of seconds instead of 1,000,000 PUTs.
 */
import { createInbox, type NatsConnection } from '@nats-io/transport-node';
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

export async function bulkLoad(nc: NatsConnection, bucket: string, count: number, keyOf: (i: number) => string, windowMax = 8192): Promise<BulkLoadResult> {
  // Plain publishes with one shared reply inbox: JetStream answers each with a PubAck there. No
  // promise or timer per message, and at most `windowMax` unacknowledged at once (backpressure).
  const started = Date.now();
  const inbox = createInbox();
  let acked = 0;
  let lastSeq = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const sub = nc.subscribe(inbox, {
    callback: (_err, msg) => {
      const ack = JSON.parse(new TextDecoder().decode(msg.data)) as { seq?: number; error?: { description?: string } };
      if (ack.error) failure ??= new Error(`publish failed: ${ack.error.description ?? 'unknown'}`);
      if (typeof ack.seq === 'number' && ack.seq > lastSeq) lastSeq = ack.seq;
      acked++;
      wake?.();
    },
  });
  const waitAcks = (atLeast: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (failure) reject(failure);
        else if (acked >= atLeast) resolve();
        else wake = check;
      };
      check();
    });
  for (let i = 0; i < count; i++) {
    if (i - acked >= windowMax) await waitAcks(i - windowMax + 1);
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
    nc.publish(objectSubject(bucket, key), encodeEvent(ev), { reply: inbox });
  }
  await waitAcks(count);
  sub.unsubscribe();
  return { events: count, lastSeq, elapsedMs: Date.now() - started };
}

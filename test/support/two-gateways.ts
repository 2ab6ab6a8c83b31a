/**
 * Gateways on one log for the cross-gateway tests: A (embedded nats-server and storage node), B
 * (its own read model, fenced reads, reaching A's storage node over NATS) and C (like B but with
 * `readFence: false`, the control). And the write-then-read-elsewhere check they share.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { createRng, randomBuffer, type Rng } from './prng.ts';
import { startTestStrata, type TestStrata } from './strata.ts';

export const md5Hex = (d: Uint8Array | string): string => createHash('md5').update(d).digest('hex');

export interface Gateways {
  readonly a: TestStrata;
  readonly b: TestStrata;
  readonly c: TestStrata;
  readonly s3a: S3Client;
  readonly s3b: S3Client;
  readonly s3c: S3Client;
  stop(): Promise<void>;
}

export async function startGateways(): Promise<Gateways> {
  const a = await startTestStrata();
  const shared = { natsUrl: a.strata.natsUrl, remoteNodes: [a.config.nodeId] };
  const b = await startTestStrata({ ...shared, gatewayId: 'gw-b' });
  const c = await startTestStrata({ ...shared, gatewayId: 'gw-c-unfenced', readFence: false });
  const [s3a, s3b, s3c] = [a.client(), b.client(), c.client()];
  return {
    a,
    b,
    c,
    s3a,
    s3b,
    s3c,
    async stop() {
      for (const s of [s3a, s3b, s3c]) s.destroy();
      // A runs the nats-server the others use: stop it last.
      await c.stop();
      await b.stop();
      await a.stop();
    },
  };
}

interface Expected {
  readonly etag: string;
  readonly body: Buffer;
  readonly versionId: string | undefined;
}

/** What one read through a gateway returned that differs from what was acknowledged before it. */
export type Stale = { readonly iteration: number; readonly op: string; readonly key: string; readonly what: string };

export async function readState(s3: S3Client, bucket: string, key: string): Promise<{ get: string; head: string }> {
  let get: string;
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = Buffer.from((await r.Body?.transformToByteArray()) ?? []);
    get = `200 ${r.ETag ?? ''} ${md5Hex(body)} ${body.length} ${r.VersionId ?? '-'}`;
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
    get = `${err.$metadata?.httpStatusCode ?? '?'} ${err.name}`;
  }
  let head: string;
  try {
    const r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    head = `200 ${r.ETag ?? ''} ${r.ContentLength ?? '?'} ${r.VersionId ?? '-'}`;
  } catch (e) {
    const err = e as { $metadata?: { httpStatusCode?: number } };
    head = `${err.$metadata?.httpStatusCode ?? '?'}`;
  }
  return { get, head };
}

function expectedState(e: Expected | undefined): { get: string; head: string } {
  if (!e) return { get: '404 NoSuchKey', head: '404' };
  return {
    get: `200 "${e.etag}" ${md5Hex(e.body)} ${e.body.length} ${e.versionId ?? '-'}`,
    head: `200 "${e.etag}" ${e.body.length} ${e.versionId ?? '-'}`,
  };
}

async function listUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of r.Contents ?? []) out.push(`${o.Key ?? ''} ${o.ETag ?? ''}`);
    token = r.NextContinuationToken;
  } while (token);
  return out;
}

function body(rng: Rng, i: number): Buffer {
  // Mostly small objects (inline in the event); every 8th larger than the inline limit, so its
  // bytes come from the storage node over NATS when read through B.
  const size = i % 8 === 0 ? 5000 + rng.below(20_000) : rng.below(600);
  return randomBuffer(rng, size);
}

/**
 * Writes through `writer` and reads through `reader`, `iterations` times; returns every read that
 * did not match the write acknowledged just before it.
 */
export async function writeThenRead(
  label: string,
  bucket: string,
  versioned: boolean,
  writer: S3Client,
  reader: S3Client,
  iterations: number,
  seed: number,
): Promise<{ stale: Stale[]; ops: Record<string, number> }> {
  const rng = createRng(seed);
  const state = new Map<string, Expected>();
  const stale: Stale[] = [];
  const ops: Record<string, number> = { put: 0, overwrite: 0, delete: 0 };
  const dirs = 12;
  for (let i = 0; i < iterations; i++) {
    const dir = `${label}/d${rng.below(dirs)}/`;
    const existing = [...state.keys()].filter((k) => k.startsWith(dir));
    const roll = rng.below(10);
    let key: string;
    let op: string;
    if (existing.length === 0 || roll < 4) {
      op = 'put';
      key = `${dir}k${i}`;
    } else {
      key = existing[rng.below(existing.length)] ?? '';
      op = roll < 7 ? 'overwrite' : 'delete';
    }
    ops[op] = (ops[op] ?? 0) + 1;
    if (op === 'delete') {
      await writer.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      state.delete(key);
    } else {
      const data = body(rng, i);
      const put = await writer.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
      expect(put.ETag).toBe(`"${md5Hex(data)}"`);
      if (versioned) expect(put.VersionId).toMatch(/^[0-9a-z]{29}$/);
      state.set(key, { etag: md5Hex(data), body: data, versionId: put.VersionId });
    }
    // Immediately after the acknowledgement, through the other gateway.
    const seen = await readState(reader, bucket, key);
    const want = expectedState(state.get(key));
    if (seen.get !== want.get) stale.push({ iteration: i, op, key, what: `GET ${seen.get}, expected ${want.get}` });
    if (seen.head !== want.head) stale.push({ iteration: i, op, key, what: `HEAD ${seen.head}, expected ${want.head}` });
    const listed = await listUnder(reader, bucket, dir);
    const wantListed = [...state.entries()]
      .filter(([k]) => k.startsWith(dir))
      .sort(([x], [y]) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      .map(([k, e]) => `${k} "${e.etag}"`);
    if (JSON.stringify(listed) !== JSON.stringify(wantListed)) {
      stale.push({ iteration: i, op, key, what: `LIST ${dir}: ${JSON.stringify(listed)}, expected ${JSON.stringify(wantListed)}` });
    }
  }
  return { stale, ops };
}

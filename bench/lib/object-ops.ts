/**
 * The PUT and GET operations of the object cells and the cell matrix they run over. The same
 * functions drive Strata and the bare loopback server, so a ratio between the two measures the
 * server and nothing else.
 */
import { createHash } from 'node:crypto';
import type { HttpOp } from '../types.ts';
import { describeFailure, type BenchClient } from './http-client.ts';
import type { Operation } from './load.ts';

/**
 * The cell matrix. STRATA_BENCH_SIZES (bytes, comma-separated) and STRATA_BENCH_CONCURRENCY
 * narrow it for profiling one cell (`--profile`); a full run uses the defaults.
 */
export const objectSizesBytes: readonly number[] = listFromEnv('STRATA_BENCH_SIZES') ?? [4 * 1024, 1024 * 1024];
export const concurrencies: readonly number[] = listFromEnv('STRATA_BENCH_CONCURRENCY') ?? [1, 16];

function listFromEnv(name: string): number[] | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const values = text.split(',').map(Number);
  if (values.some((v) => !Number.isSafeInteger(v) || v <= 0)) throw new Error(`${name}: expected positive integers, got ${text}`);
  return values;
}
export const objectOps: readonly HttpOp[] = ['PUT', 'GET'];

/** Count bound of a cell: enough that the time bound decides on a healthy server. */
export function maxOpsFor(sizeBytes: number): number {
  return Math.min(200_000, Math.floor((4 * 1024 * 1024 * 1024) / sizeBytes));
}

/** One GET in this many has its body compared byte for byte. */
export const verifyEvery = 8;

export function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

export interface PutOptions {
  readonly client: BenchClient;
  readonly bucket: string;
  /** Keys are `<prefix>/<seq>`. */
  readonly prefix: string;
  readonly body: Buffer;
  /** When set, every answer's ETag must be this quoted MD5. */
  readonly etag: string | undefined;
}

export function putOperation(o: PutOptions): Operation {
  return async (seq) => {
    const path = `/${o.bucket}/${o.prefix}/${seq}`;
    const r = await o.client.request('PUT', path, o.body, false);
    if (r.status !== 200) throw new Error(describeFailure('PUT', path, r));
    if (o.etag !== undefined && r.headers.etag !== o.etag) throw new Error(`PUT ${path}: ETag ${String(r.headers.etag)}, expected ${o.etag}`);
    return { bytes: o.body.length, verified: false };
  };
}

export interface GetOptions {
  readonly client: BenchClient;
  readonly bucket: string;
  readonly keys: readonly string[];
  /** Body of keys[i]. */
  readonly bodies: readonly Buffer[];
}

export function getOperation(o: GetOptions): Operation {
  return async (seq) => {
    const i = seq % o.keys.length;
    const path = `/${o.bucket}/${o.keys[i] ?? ''}`;
    const expected = o.bodies[i];
    if (!expected) throw new Error(`no body for key ${i}`);
    const verify = seq % verifyEvery === 0;
    const r = await o.client.request('GET', path, undefined, verify);
    if (r.status !== 200) throw new Error(describeFailure('GET', path, r));
    if (r.bytes !== expected.length) throw new Error(`GET ${path}: ${r.bytes} bytes, expected ${expected.length}`);
    if (verify && !r.body?.equals(expected)) throw new Error(`GET ${path}: body differs from what was written`);
    return { bytes: r.bytes, verified: verify };
  };
}

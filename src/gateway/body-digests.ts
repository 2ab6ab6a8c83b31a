/** The end of every body write: the computed digests against what the client declared. */
import { assert } from '../lib/assert.ts';
import type { ShardRef } from '../events/types.ts';
import type { WriteBodyInput, WrittenBody } from './object-writer.ts';
import { fail, ok, type Result } from './types.ts';

/** Compares the body's digests with what the client declared and builds the written body. */
export function checkDigests(
  input: WriteBodyInput,
  body: { size: number; shards: ShardRef[]; inlineData: Uint8Array | undefined },
  d: { md5: Buffer; sha256Hex: string | undefined; checksum: Buffer | undefined },
): Result<WrittenBody> {
  const algorithm = input.checksum?.algorithm ?? input.defaultChecksum;
  if (input.contentMd5 && !input.contentMd5.equals(d.md5)) return fail('BadDigest');
  if (input.sha256Hex && d.sha256Hex !== input.sha256Hex) return fail('XAmzContentSHA256Mismatch');
  let stored: WrittenBody['checksum'];
  if (algorithm) {
    assert(d.checksum !== undefined, 'checksum computed');
    const value = d.checksum.toString('base64');
    const expected = input.checksum?.expected();
    if (input.checksum && expected === undefined) return fail('InvalidRequest', `x-amz-checksum-${algorithm.toLowerCase()} is missing.`);
    if (expected !== undefined && expected !== value) {
      return fail('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
    }
    stored = { algorithm, value };
  }
  return ok({ size: body.size, md5Hex: d.md5.toString('hex'), shards: body.shards, inlineData: body.inlineData, checksum: stored });
}

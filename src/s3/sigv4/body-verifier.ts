/**
 * Pass-through streams that check a body against what the client declared, failing at the end
 * (before 'end' is emitted) so a consumer that commits only on a clean end never keeps bad data.
 *
 * - `createSha256Verifier`: the x-amz-content-sha256 hex that the request signature covered;
 *   a mismatch is XAmzContentSHA256Mismatch.
 * - `createChecksumVerifier`: an x-amz-checksum-* header sent up front (not as a trailer);
 *   a mismatch is BadDigest.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { checksumDigestBytes, checksumHeaderName, createChecksum } from '../../lib/checksums.ts';
import type { ChecksumAlgorithm } from '../../lib/checksums.ts';
import { S3Error } from '../errors.ts';

class DigestVerifier extends Transform {
  constructor(
    private readonly update: (piece: Buffer) => void,
    private readonly check: () => S3Error | undefined,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.update(chunk);
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    callback(this.check());
  }
}

export function createSha256Verifier(expectedHex: string): Transform {
  const hash = createHash('sha256');
  const expected = expectedHex.toLowerCase();
  return new DigestVerifier(
    (piece) => hash.update(piece),
    () => {
      const computed = hash.digest('hex');
      if (computed === expected) return undefined;
      return new S3Error('XAmzContentSHA256Mismatch', undefined, {
        ClientComputedContentSHA256: expected,
        S3ComputedContentSHA256: computed,
      });
    },
  );
}

/**
 * Validates the base64 value up front (InvalidRequest if it cannot be a digest of this algorithm)
 * and returns a stream that fails with BadDigest if the body does not match.
 */
export function createChecksumVerifier(alg: ChecksumAlgorithm, expectedBase64: string): Transform | S3Error {
  const expected = Buffer.from(expectedBase64, 'base64');
  if (expected.length !== checksumDigestBytes[alg] || expected.toString('base64') !== expectedBase64) {
    return new S3Error('InvalidRequest', `Value for ${checksumHeaderName(alg)} header is invalid.`);
  }
  const checksum = createChecksum(alg);
  return new DigestVerifier(
    (piece) => checksum.update(piece),
    () =>
      checksum.digest().equals(expected)
        ? undefined
        : new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`),
  );
}

/**
 * Checksums of multipart objects, as AWS defines them (S3 user guide, "Checking object
 * integrity", multipart uploads):
 *
 * - COMPOSITE ("checksum of checksums"): the algorithm applied to the concatenated raw digests of
 *   the parts, in part order, written `<base64>-<number of parts>`. CRC32, CRC32C, SHA1, SHA256.
 * - FULL_OBJECT: the checksum of the whole object's bytes, built from the part CRCs with
 *   `combineCrc` (no data read). CRC32, CRC32C, CRC64NVME only.
 *
 * Pure.
 */
import { checksumOf, combineCrc, type ChecksumAlgorithm, type CrcAlgorithm } from '../lib/checksums.ts';
import type { ChecksumType } from '../events/types.ts';

export function defaultChecksumType(alg: ChecksumAlgorithm): ChecksumType {
  return alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
}

export function checksumTypeAllowed(alg: ChecksumAlgorithm, type: ChecksumType): boolean {
  if (type === 'FULL_OBJECT') return isCrc(alg);
  return alg !== 'CRC64NVME';
}

function isCrc(alg: ChecksumAlgorithm): alg is CrcAlgorithm {
  return alg === 'CRC32' || alg === 'CRC32C' || alg === 'CRC64NVME';
}

export interface PartChecksum {
  /** Base64 digest of the part's bytes. */
  readonly value: string;
  readonly size: number;
}

/** The object's checksum value from its parts' checksums (in part order). */
export function multipartChecksum(alg: ChecksumAlgorithm, type: ChecksumType, parts: readonly PartChecksum[]): string {
  if (type === 'COMPOSITE') {
    const digests = Buffer.concat(parts.map((p) => Buffer.from(p.value, 'base64')));
    return `${checksumOf(alg, digests).toString('base64')}-${parts.length}`;
  }
  if (!isCrc(alg)) throw new RangeError(`${alg} has no full-object multipart checksum`);
  let acc: Buffer | undefined;
  for (const p of parts) {
    const digest = Buffer.from(p.value, 'base64');
    acc = acc === undefined ? digest : combineCrc(alg, acc, digest, p.size);
  }
  // An upload always has at least one part; an empty object's CRC is all zero bytes.
  return (acc ?? checksumOf(alg, new Uint8Array(0))).toString('base64');
}

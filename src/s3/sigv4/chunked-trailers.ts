/**
 * Trailing headers of an aws-chunked body: which are declared (x-amz-trailer), collecting them
 * after the final chunk, and checking them at the end — the trailer signature
 * (AWS4-HMAC-SHA256-TRAILER, chained from the final chunk's signature) and the checksum they
 * carry against the checksum of the decoded payload.
 */
import { checksumAlgorithmFromHeaderName, checksumDigestBytes, createChecksum } from '../../lib/checksums.ts';
import type { Checksum, ChecksumAlgorithm } from '../../lib/checksums.ts';
import { limits } from '../../lib/limits.ts';
import { S3Error } from '../errors.ts';
import { hmacSha256, sha256Hex, signatureMatches, trailerStringToSign } from './signing.ts';
import type { SigningContext } from './signing.ts';

export const trailerSignatureName = 'x-amz-trailer-signature';

/** Parses x-amz-trailer: a comma-separated list holding (in practice) one x-amz-checksum-* name. */
export function parseDeclaredTrailers(value: string): { names: string[]; algorithm?: ChecksumAlgorithm } | S3Error {
  const names = value
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
  const algorithms = names.map(checksumAlgorithmFromHeaderName);
  if (names.length === 0 || algorithms.some((a) => a === undefined)) {
    return new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
  }
  if (names.length > 1) return new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  return { names, algorithm: algorithms[0]! };
}

export interface VerifiedChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** base64 of the digest, as it appears in x-amz-checksum-* headers. */
  readonly value: string;
}

/** Collects trailer lines, then verifies them once the body has ended. */
export class TrailerCollector {
  private readonly lines: Array<[string, string]> = [];
  private signature: string | undefined;
  private readonly checksum: Checksum | undefined;
  private verified: VerifiedChecksum | undefined;

  constructor(
    private readonly declared: readonly string[],
    private readonly algorithm: ChecksumAlgorithm | undefined,
    /** Present when the trailer itself is signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER). */
    private readonly signing: SigningContext | undefined,
    /** False: the body's reader compares the checksum; only the trailer's format is checked here. */
    private readonly verifyChecksum: boolean = true,
  ) {
    this.checksum = algorithm === undefined || !verifyChecksum ? undefined : createChecksum(algorithm);
  }

  get count(): number {
    return this.lines.length;
  }

  /** Feeds decoded payload bytes to the checksum the trailer will be compared with. */
  updatePayload(piece: Uint8Array): void {
    this.checksum?.update(piece);
  }

  /** One `name:value` line (CRLF already removed). Returns an error to fail the stream with. */
  addLine(line: string): S3Error | undefined {
    const colon = line.indexOf(':');
    if (colon <= 0) return new S3Error('InvalidRequest', 'Malformed trailing header in aws-chunked body.');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === trailerSignatureName) {
      if (this.signature !== undefined) return new S3Error('InvalidRequest', 'Duplicate x-amz-trailer-signature.');
      this.signature = value;
      return undefined;
    }
    if (!this.declared.includes(name)) {
      return new S3Error('InvalidRequest', `The trailing header ${name} was not declared in x-amz-trailer.`);
    }
    if (this.lines.some(([n]) => n === name)) return new S3Error('InvalidRequest', `Duplicate trailing header ${name}.`);
    if (this.lines.length >= limits.awsChunkTrailerLinesMax) return new S3Error('InvalidRequest', 'Too many trailing headers.');
    this.lines.push([name, value]);
    return undefined;
  }

  /**
   * Checks signature, presence and checksum. `previousSignature` is the final chunk's signature.
   * The signature is checked first: a checksum that does not match a forged trailer means nothing.
   */
  finish(previousSignature: string): S3Error | undefined {
    if (this.signing) {
      if (this.signature === undefined) return new S3Error('SignatureDoesNotMatch', 'Missing x-amz-trailer-signature.');
      const canonical = this.lines.map(([n, v]) => `${n}:${v}\n`).join('');
      const expected = hmacSha256(
        this.signing.signingKey,
        // Lines were read as latin1 (one char per byte); hash those bytes back.
        trailerStringToSign(this.signing, previousSignature, sha256Hex(Buffer.from(canonical, 'latin1'))),
      );
      if (!signatureMatches(this.signature, expected)) return new S3Error('SignatureDoesNotMatch');
    }
    for (const name of this.declared) {
      if (!this.lines.some(([n]) => n === name)) {
        return new S3Error('InvalidRequest', `The trailing header ${name} declared in x-amz-trailer is missing.`);
      }
    }
    if (this.algorithm === undefined) return undefined;
    const name = `x-amz-checksum-${this.algorithm.toLowerCase()}`;
    const sent = this.lines.find(([n]) => n === name)?.[1] ?? '';
    const sentBytes = Buffer.from(sent, 'base64');
    if (sentBytes.length !== checksumDigestBytes[this.algorithm] || sentBytes.toString('base64') !== sent) {
      return new S3Error('InvalidRequest', `Value for ${name} trailing header is invalid.`);
    }
    if (this.checksum === undefined) return undefined;
    const computed = this.checksum.digest();
    if (!computed.equals(sentBytes)) {
      return new S3Error('BadDigest', `The ${this.algorithm} you specified did not match the calculated checksum.`);
    }
    this.verified = { algorithm: this.algorithm, value: sent };
    return undefined;
  }

  trailers(): Map<string, string> {
    return new Map(this.lines);
  }

  verifiedChecksum(): VerifiedChecksum | undefined {
    return this.verified;
  }
}

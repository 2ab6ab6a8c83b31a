/**
 * Streaming decoder for `Content-Encoding: aws-chunked` request bodies.
 *
 * Wire format (HTTP/1.1 chunked framing inside the body, sizes in hex):
 *
 *   signed:    <size>;chunk-signature=<64 hex>\r\n <size bytes> \r\n   ... repeated
 *              0;chunk-signature=<64 hex>\r\n
 *   unsigned:  <size>\r\n <size bytes> \r\n   ...   0\r\n
 *   then:      [<name>:<value>\r\n ...] [x-amz-trailer-signature:<64 hex>\r\n] \r\n
 *
 * Each chunk signature signs "AWS4-HMAC-SHA256-PAYLOAD", the date, scope, the previous signature
 * (the request's seed signature for the first chunk), the hash of empty headers and the chunk's
 * SHA-256; the zero-length final chunk is signed the same way. With signed trailers, the trailer
 * block is signed as "AWS4-HMAC-SHA256-TRAILER" chained from the final chunk's signature.
 *
 * Tolerated variations seen in the wild: a blank line between the final chunk and the trailers
 * (AWS's own documented example), and a missing final blank line at end of body.
 *
 * Memory: only header lines are searched byte-wise (bounded by awsChunkLineBytesMax); payload is
 * sliced by length without copying. Signed chunks are held (as slices) until their signature is
 * verified, so nothing unverified reaches the consumer; that bounds memory to one chunk
 * (awsChunkBytesMax). Unsigned chunks flow straight through.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { ChecksumAlgorithm } from '../../lib/checksums.ts';
import { limits } from '../../lib/limits.ts';
import { S3Error } from '../errors.ts';
import { TrailerCollector, parseDeclaredTrailers } from './chunked-trailers.ts';
import type { VerifiedChecksum } from './chunked-trailers.ts';
import { chunkStringToSign, emptySha256Hex, hmacSha256, isHexSignature, signatureMatches } from './signing.ts';
import type { SigningContext } from './signing.ts';
import type { AuthResult } from './verify.ts';

export type { VerifiedChecksum } from './chunked-trailers.ts';
// The gateway reaches every body decoder through this module.
export { createChecksumVerifier, createSha256Verifier } from './body-verifier.ts';

export interface AwsChunkedOptions {
  /** Verify chunk (and trailer) signatures; absent for STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
  readonly signing?: SigningContext;
  /** Value of x-amz-trailer (e.g. `x-amz-checksum-crc32`): trailing headers are expected. */
  readonly trailer?: string;
  /** Value of x-amz-decoded-content-length: the decoded body must have exactly this length. */
  readonly decodedLength?: number;
  /**
   * Compare the trailer's checksum with one computed here (default). False when the reader of the
   * body computes that checksum anyway and compares it with the trailer (PutObject, UploadPart):
   * the trailer's signature, presence and format are still checked here.
   */
  readonly verifyTrailerChecksum?: boolean;
}

type State = 'header' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done' | 'failed';

const framing = (detail: string): S3Error => new S3Error('InvalidRequest', `Malformed aws-chunked body: ${detail}`);

export class AwsChunkedDecoder extends Transform {
  private state: State = 'header';
  private readonly lineParts: Buffer[] = [];
  private lineBytes = 0;
  private remaining = 0;
  private decoded = 0;
  private previousSignature: string;
  private chunkSignature = '';
  private chunkHash: Hash | undefined;
  private held: Buffer[] = [];
  private blankBeforeTrailers = false;
  private readonly collector: TrailerCollector;
  private readonly expectTrailers: boolean;
  /** A bad x-amz-trailer fails the stream on first use rather than throwing from a constructor. */
  private readonly optionsError: S3Error | undefined;

  constructor(private readonly opts: AwsChunkedOptions) {
    super();
    this.previousSignature = opts.signing?.seedSignature ?? '';
    let declared: string[] = [];
    let algorithm: ChecksumAlgorithm | undefined;
    if (opts.trailer !== undefined) {
      const parsed = parseDeclaredTrailers(opts.trailer);
      if (parsed instanceof S3Error) {
        this.optionsError = parsed;
      } else {
        declared = parsed.names;
        algorithm = parsed.algorithm;
      }
    }
    this.expectTrailers = opts.trailer !== undefined;
    this.collector = new TrailerCollector(declared, algorithm, this.expectTrailers ? opts.signing : undefined, opts.verifyTrailerChecksum ?? true);
  }

  /** Trailing headers (lowercase names, signature excluded); complete once the stream has ended. */
  trailers(): Map<string, string> {
    return this.collector.trailers();
  }

  /** The trailer checksum, verified against the decoded payload; set once the stream has ended. */
  checksum(): VerifiedChecksum | undefined {
    return this.collector.verifiedChecksum();
  }

  decodedBytes(): number {
    return this.decoded;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.state === 'failed') return callback();
    const err = this.optionsError ?? this.consume(chunk);
    if (err) {
      this.state = 'failed';
      this.held = [];
      return callback(err);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const err = this.state === 'failed' ? undefined : (this.optionsError ?? this.finish());
    if (err) this.state = 'failed';
    callback(err);
  }

  private consume(buf: Buffer): S3Error | undefined {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'header':
        case 'trailer': {
          const lf = this.findLineEnd(buf, pos);
          if (lf instanceof S3Error) return lf;
          if (lf < 0) {
            this.lineParts.push(buf.subarray(pos));
            this.lineBytes += buf.length - pos;
            return undefined;
          }
          const line = this.takeLine(buf.subarray(pos, lf));
          pos = lf + 1;
          if (line instanceof S3Error) return line;
          const err = this.state === 'header' ? this.onChunkHeader(line) : this.onTrailerLine(line);
          if (err) return err;
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - pos);
          const piece = buf.subarray(pos, pos + n);
          pos += n;
          this.remaining -= n;
          const err = this.onPayload(piece);
          if (err) return err;
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
        case 'data-lf': {
          const expected = this.state === 'data-cr' ? 0x0d : 0x0a;
          if (buf[pos] !== expected) return framing('chunk data is not followed by CRLF');
          pos++;
          if (this.state === 'data-cr') {
            this.state = 'data-lf';
          } else {
            const err = this.endChunk();
            if (err) return err;
            this.state = 'header';
          }
          break;
        }
        case 'done':
          // Only stray line ends may follow the terminating blank line.
          for (; pos < buf.length; pos++) {
            if (buf[pos] !== 0x0d && buf[pos] !== 0x0a) return framing('data after the end of the body');
          }
          break;
        case 'failed':
          return undefined;
      }
    }
    return undefined;
  }

  /** Index of the next LF, or -1 if the line continues past this buffer; bounded by the line cap. */
  private findLineEnd(buf: Buffer, pos: number): number | S3Error {
    const room = limits.awsChunkLineBytesMax + 2 - this.lineBytes;
    const window = buf.subarray(pos, Math.min(buf.length, pos + room));
    const i = window.indexOf(0x0a);
    if (i >= 0) return pos + i;
    if (window.length >= room) return framing('chunk header or trailer line too long');
    return -1;
  }

  /** Joins the pending parts with the final piece and strips the CRLF. */
  private takeLine(last: Buffer): string | S3Error {
    const bytes = this.lineParts.length === 0 ? last : Buffer.concat([...this.lineParts, last]);
    this.lineParts.length = 0;
    this.lineBytes = 0;
    if (bytes.length === 0 || bytes[bytes.length - 1] !== 0x0d) return framing('line not terminated by CRLF');
    return bytes.toString('latin1', 0, bytes.length - 1);
  }

  private onChunkHeader(line: string): S3Error | undefined {
    const [sizeText = '', ...extensions] = line.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText.trim())) return framing('invalid chunk size');
    const size = parseInt(sizeText.trim(), 16);
    if (size > limits.awsChunkBytesMax) return framing(`chunk larger than ${limits.awsChunkBytesMax} bytes`);
    if (this.opts.signing) {
      const sig = extensions.map((e) => e.trim()).find((e) => e.startsWith('chunk-signature='));
      const value = sig?.slice('chunk-signature='.length) ?? '';
      if (!isHexSignature(value)) return framing('missing or malformed chunk-signature');
      this.chunkSignature = value.toLowerCase();
      this.chunkHash = size > 0 ? createHash('sha256') : undefined;
    }
    if (size > 0) {
      this.remaining = size;
      this.state = 'data';
      return undefined;
    }
    // The zero-length chunk ends the payload; it is signed like any other.
    const err = this.verifyChunk(emptySha256Hex);
    if (err) return err;
    if (this.opts.decodedLength !== undefined && this.decoded !== this.opts.decodedLength) {
      return new S3Error(
        'IncompleteBody',
        `The decoded body has ${this.decoded} bytes; x-amz-decoded-content-length declared ${this.opts.decodedLength}.`,
      );
    }
    this.state = 'trailer';
    return undefined;
  }

  private onPayload(piece: Buffer): S3Error | undefined {
    this.decoded += piece.length;
    if (this.opts.decodedLength !== undefined && this.decoded > this.opts.decodedLength) {
      return new S3Error('IncompleteBody', 'The decoded body is longer than x-amz-decoded-content-length.');
    }
    this.collector.updatePayload(piece);
    if (this.chunkHash) {
      this.chunkHash.update(piece);
      this.held.push(piece);
    } else {
      this.push(piece);
    }
    return undefined;
  }

  private endChunk(): S3Error | undefined {
    if (!this.chunkHash) return undefined;
    const err = this.verifyChunk(this.chunkHash.digest('hex'));
    if (err) return err;
    for (const piece of this.held) this.push(piece);
    this.held = [];
    this.chunkHash = undefined;
    return undefined;
  }

  private verifyChunk(chunkSha256Hex: string): S3Error | undefined {
    const ctx = this.opts.signing;
    if (!ctx) return undefined;
    const expected = hmacSha256(ctx.signingKey, chunkStringToSign(ctx, this.previousSignature, chunkSha256Hex));
    if (!signatureMatches(this.chunkSignature, expected)) {
      return new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    }
    this.previousSignature = this.chunkSignature;
    return undefined;
  }

  private onTrailerLine(line: string): S3Error | undefined {
    if (line === '') {
      if (this.expectTrailers && this.collector.count === 0 && !this.blankBeforeTrailers) {
        this.blankBeforeTrailers = true;
        return undefined;
      }
      return this.complete();
    }
    if (!this.expectTrailers) return framing('trailing headers without x-amz-trailer');
    return this.collector.addLine(line);
  }

  private complete(): S3Error | undefined {
    const err = this.collector.finish(this.previousSignature);
    if (err) return err;
    this.state = 'done';
    return undefined;
  }

  private finish(): S3Error | undefined {
    switch (this.state) {
      case 'done':
      case 'failed':
        return undefined;
      case 'trailer': {
        // The last line may lack its CRLF, or the terminating blank line may be missing.
        if (this.lineBytes > 0) {
          const text = Buffer.concat(this.lineParts).toString('latin1').replace(/\r$/, '');
          this.lineParts.length = 0;
          this.lineBytes = 0;
          const err = text === '' ? undefined : this.onTrailerLine(text);
          if (err) return err;
          if (this.state !== 'trailer') return undefined;
        }
        return this.complete();
      }
      default:
        return new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk.');
    }
  }
}

export function createAwsChunkedDecoder(opts: AwsChunkedOptions): AwsChunkedDecoder {
  return new AwsChunkedDecoder(opts);
}

/**
 * Decoder options from the request headers and a successful auth result, checking the headers
 * agree with the payload mode. Returns undefined for payloads that are not aws-chunked.
 */
export function awsChunkedOptions(headers: IncomingHttpHeaders, auth: Extract<AuthResult, { ok: true }>): AwsChunkedOptions | S3Error | undefined {
  const { payload } = auth;
  if (payload.kind !== 'streaming-signed' && payload.kind !== 'streaming-unsigned-trailer') return undefined;
  const withTrailer = payload.kind === 'streaming-unsigned-trailer' || payload.trailer;
  const lengthText = headers['x-amz-decoded-content-length'];
  let decodedLength: number | undefined;
  if (typeof lengthText === 'string') {
    if (!/^\d{1,16}$/.test(lengthText.trim())) {
      return new S3Error('InvalidArgument', 'x-amz-decoded-content-length must be a non-negative integer.');
    }
    decodedLength = Number(lengthText.trim());
  } else if (payload.kind === 'streaming-signed') {
    return new S3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length header.');
  }
  const trailer = headers['x-amz-trailer'];
  if (withTrailer && typeof trailer !== 'string') {
    return new S3Error('InvalidRequest', 'The x-amz-trailer header is required for this x-amz-content-sha256 value.');
  }
  if (!withTrailer && trailer !== undefined) {
    return new S3Error('InvalidRequest', 'x-amz-trailer requires x-amz-content-sha256 with a -TRAILER payload type.');
  }
  if (typeof trailer === 'string') {
    const parsed = parseDeclaredTrailers(trailer);
    if (parsed instanceof S3Error) return parsed;
  }
  return {
    ...(payload.kind === 'streaming-signed' ? { signing: auth.signing } : {}),
    ...(typeof trailer === 'string' ? { trailer } : {}),
    ...(decodedLength === undefined ? {} : { decodedLength }),
  };
}

/** Content-Encoding with the aws-chunked token removed (what to store); undefined if none left. */
export function contentEncodingWithoutAwsChunked(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const rest = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && t.toLowerCase() !== 'aws-chunked');
  return rest.length === 0 ? undefined : rest.join(',');
}

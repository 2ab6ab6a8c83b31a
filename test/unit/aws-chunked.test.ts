import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { checksumOf } from '../../src/lib/checksums.ts';
import { limits } from '../../src/lib/limits.ts';
import { S3Error } from '../../src/s3/errors.ts';
import {
  awsChunkedOptions,
  contentEncodingWithoutAwsChunked,
  createAwsChunkedDecoder,
} from '../../src/s3/sigv4/chunked.ts';
import type { AwsChunkedDecoder, AwsChunkedOptions } from '../../src/s3/sigv4/chunked.ts';
import { createChecksumVerifier, createSha256Verifier } from '../../src/s3/sigv4/body-verifier.ts';
import { verifyRequest } from '../../src/s3/sigv4/verify.ts';
import type { AuthResult } from '../../src/s3/sigv4/verify.ts';

const seed = Number(process.env['TEST_SEED'] ?? Date.now() % 1_000_000);
console.log(`aws-chunked.test seed=${seed} (TEST_SEED=${seed} to replay)`);

function rng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// An independent encoder written from the AWS documentation (not sharing code with src/), anchored
// below by reproducing AWS's published chunk and trailer signatures byte for byte.

const sk = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const emptySha = createHash('sha256').digest('hex');
const sha = (d: string | Buffer): string => createHash('sha256').update(d).digest('hex');
const hmac = (k: Buffer | string, d: string): Buffer => createHmac('sha256', k).update(d).digest();
const exampleKey = hmac(hmac(hmac(hmac(`AWS4${sk}`, '20130524'), 'us-east-1'), 's3'), 'aws4_request');
const exampleScope = '20130524/us-east-1/s3/aws4_request';
const exampleDate = '20130524T000000Z';
const docSeed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const docTrailerSeed = '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e';

interface EncodeOptions {
  seedSignature: string;
  chunks: Buffer[];
  trailers?: Array<[string, string]>;
  /** AWS's trailer example puts a blank line between the final chunk and the trailers. */
  blankBeforeTrailers?: boolean;
  omitFinalCrlf?: boolean;
}

function encodeSigned(o: EncodeOptions): { wire: Buffer; signatures: string[] } {
  const parts: Buffer[] = [];
  const signatures: string[] = [];
  let prev = o.seedSignature;
  for (const data of [...o.chunks, Buffer.alloc(0)]) {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', exampleDate, exampleScope, prev, emptySha, sha(data)].join('\n');
    prev = hmac(exampleKey, sts).toString('hex');
    signatures.push(prev);
    parts.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${prev}\r\n`));
    if (data.length > 0) parts.push(data, Buffer.from('\r\n'));
  }
  if (o.trailers) {
    if (o.blankBeforeTrailers) parts.push(Buffer.from('\r\n'));
    const block = o.trailers.map(([n, v]) => `${n}:${v}\n`).join('');
    const sig = hmac(exampleKey, ['AWS4-HMAC-SHA256-TRAILER', exampleDate, exampleScope, prev, sha(block)].join('\n')).toString('hex');
    signatures.push(sig);
    for (const [n, v] of o.trailers) parts.push(Buffer.from(`${n}:${v}\r\n`));
    parts.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
  }
  if (!o.omitFinalCrlf) parts.push(Buffer.from('\r\n'));
  return { wire: Buffer.concat(parts), signatures };
}

function encodeUnsigned(chunks: Buffer[], trailers: Array<[string, string]> = []): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n'));
  for (const [n, v] of trailers) parts.push(Buffer.from(`${n}:${v}\r\n`));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

const signing = (seedSignature: string): NonNullable<AwsChunkedOptions['signing']> => ({
  signingKey: exampleKey,
  scope: exampleScope,
  amzDate: exampleDate,
  seedSignature,
});

async function decode(
  opts: AwsChunkedOptions,
  pieces: Buffer[],
): Promise<{ out: Buffer; error: unknown; decoder: AwsChunkedDecoder }> {
  const decoder = createAwsChunkedDecoder(opts);
  const out: Buffer[] = [];
  let error: unknown;
  try {
    await pipeline(Readable.from(pieces), decoder, async (src: AsyncIterable<Buffer>) => {
      for await (const b of src) out.push(b);
    });
  } catch (e) {
    error = e;
  }
  return { out: Buffer.concat(out), error, decoder };
}

function splitRandomly(wire: Buffer, next: () => number, maxPiece: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let pos = 0; pos < wire.length; ) {
    const n = Math.max(1, Math.floor(next() * maxPiece));
    pieces.push(wire.subarray(pos, pos + n));
    pos += n;
  }
  return pieces;
}

const bytewise = (wire: Buffer): Buffer[] => Array.from({ length: wire.length }, (_, i) => wire.subarray(i, i + 1));

function expectS3Error(error: unknown, code: string): void {
  expect(error).toBeInstanceOf(S3Error);
  expect((error as S3Error).code).toBe(code);
}

const docPayload = Buffer.alloc(66560, 'a');
const docChunks = [docPayload.subarray(0, 65536), docPayload.subarray(65536)];
const docSignatures = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];
const docTrailerSignatures = [
  'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
  '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
  '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
  'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435',
];

describe('AWS documented chunked upload (66560 bytes, 64 KiB chunks)', () => {
  const { wire, signatures } = encodeSigned({ seedSignature: docSeed, chunks: docChunks });

  it('given the test encoder, it reproduces the published signatures and Content-Length 66824', () => {
    expect(signatures).toEqual(docSignatures);
    expect(wire.length).toBe(66824);
  });

  it('given the seed from verifyRequest, the body decodes to the payload', async () => {
    const auth = verifyRequest(
      {
        method: 'PUT',
        rawUrl: '/examplebucket/chunkObject.txt',
        headers: {
          host: 's3.amazonaws.com',
          'x-amz-date': exampleDate,
          'x-amz-storage-class': 'REDUCED_REDUNDANCY',
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': '66560',
          'content-length': '66824',
          authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=${docSeed}`,
        },
      },
      () => sk,
      Date.UTC(2013, 4, 24),
    );
    if (!auth.ok) throw new Error(auth.code);
    const opts = awsChunkedOptions({ 'x-amz-decoded-content-length': '66560' }, auth);
    if (opts === undefined || opts instanceof S3Error) throw new Error('expected options');
    const { out, error, decoder } = await decode(opts, [wire]);
    expect(error).toBeUndefined();
    expect(out.equals(docPayload)).toBe(true);
    expect(decoder.decodedBytes()).toBe(66560);
    expect(decoder.trailers().size).toBe(0);
  });

  it('given the body one byte at a time, it decodes', async () => {
    const { out, error } = await decode({ signing: signing(docSeed), decodedLength: 66560 }, bytewise(wire));
    expect(error).toBeUndefined();
    expect(out.equals(docPayload)).toBe(true);
  });

  it('given random splits (seeded), it decodes every time', async () => {
    const next = rng(seed);
    for (let round = 0; round < 20; round++) {
      const pieces = splitRandomly(wire, next, round % 2 === 0 ? 200 : 70_000);
      const { out, error } = await decode({ signing: signing(docSeed), decodedLength: 66560 }, pieces);
      expect(error, `seed ${seed} round ${round}`).toBeUndefined();
      expect(out.equals(docPayload), `seed ${seed} round ${round}`).toBe(true);
    }
  });

  it('given a flipped payload byte in chunk 2, SignatureDoesNotMatch and chunk 2 is never emitted', async () => {
    const bad = Buffer.from(wire);
    const at = wire.length - 200;
    bad.writeUInt8(bad.readUInt8(at) ^ 1, at);
    const { out, error } = await decode({ signing: signing(docSeed) }, splitRandomly(bad, rng(seed + 5), 4096));
    expectS3Error(error, 'SignatureDoesNotMatch');
    // Chunk 1 (verified) may have reached the consumer; nothing of chunk 2 may have.
    expect(out.length).toBeLessThanOrEqual(65536);
  });

  it('given a wrong chunk, final-chunk or seed signature, SignatureDoesNotMatch', async () => {
    for (const sig of docSignatures) {
      const bad = Buffer.from(wire.toString('latin1').replace(sig, sig.replace(/^./, (c) => (c === '0' ? '1' : '0'))), 'latin1');
      expectS3Error((await decode({ signing: signing(docSeed) }, [bad])).error, 'SignatureDoesNotMatch');
    }
    expectS3Error((await decode({ signing: signing(docTrailerSeed) }, [wire])).error, 'SignatureDoesNotMatch');
  });

  it('given a body cut short anywhere, IncompleteBody or a framing error, never success', async () => {
    const next = rng(seed + 1);
    for (let i = 0; i < 30; i++) {
      const cut = Math.floor(next() * (wire.length - 3));
      const { error } = await decode({ signing: signing(docSeed), decodedLength: 66560 }, [wire.subarray(0, cut)]);
      expect(error, `seed ${seed} cut ${cut}`).toBeInstanceOf(S3Error);
      expect(['IncompleteBody', 'InvalidRequest', 'SignatureDoesNotMatch']).toContain((error as S3Error).code);
    }
    expectS3Error((await decode({ signing: signing(docSeed) }, [wire.subarray(0, 1000)])).error, 'IncompleteBody');
  });

  it('given x-amz-decoded-content-length that disagrees, IncompleteBody', async () => {
    expectS3Error((await decode({ signing: signing(docSeed), decodedLength: 66561 }, [wire])).error, 'IncompleteBody');
    expectS3Error((await decode({ signing: signing(docSeed), decodedLength: 1000 }, [wire])).error, 'IncompleteBody');
  });
});

describe('AWS documented chunked upload with a signed CRC32C trailer', () => {
  const trailers: Array<[string, string]> = [['x-amz-checksum-crc32c', 'sOO8/Q==']];
  const opts: AwsChunkedOptions = { signing: signing(docTrailerSeed), trailer: 'x-amz-checksum-crc32c', decodedLength: 66560 };

  it('given the test encoder, it reproduces the published chunk and trailer signatures', () => {
    expect(encodeSigned({ seedSignature: docTrailerSeed, chunks: docChunks, trailers }).signatures).toEqual(docTrailerSignatures);
  });

  it.each([
    ['standard framing', {}],
    ['AWS example framing (blank line before trailers, no final CRLF)', { blankBeforeTrailers: true, omitFinalCrlf: true }],
  ])('given %s, fed whole, bytewise and split, it decodes and verifies the trailer', async (_name, framing) => {
    const { wire } = encodeSigned({ seedSignature: docTrailerSeed, chunks: docChunks, trailers, ...framing });
    const next = rng(seed + 2);
    for (const pieces of [[wire], bytewise(wire), splitRandomly(wire, next, 3000)]) {
      const { out, error, decoder } = await decode(opts, pieces);
      expect(error, `seed ${seed}`).toBeUndefined();
      expect(out.equals(docPayload)).toBe(true);
      expect(decoder.trailers()).toEqual(new Map(trailers));
      expect(decoder.checksum()).toEqual({ algorithm: 'CRC32C', value: 'sOO8/Q==' });
    }
  });

  it('given a tampered trailer value or trailer signature, SignatureDoesNotMatch', async () => {
    const { wire } = encodeSigned({ seedSignature: docTrailerSeed, chunks: docChunks, trailers });
    const text = wire.toString('latin1');
    const tamperedValue = Buffer.from(text.replace('sOO8/Q==', 'sOO8/Q=A'), 'latin1');
    expectS3Error((await decode(opts, [tamperedValue])).error, 'SignatureDoesNotMatch');
    const sig = docTrailerSignatures[3]!;
    const tamperedSig = Buffer.from(text.replace(sig, `${sig.slice(0, -1)}0`), 'latin1');
    expectS3Error((await decode(opts, [tamperedSig])).error, 'SignatureDoesNotMatch');
    const noSig = Buffer.from(text.replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
    expectS3Error((await decode(opts, [noSig])).error, 'SignatureDoesNotMatch');
  });

  it('given a correctly signed trailer whose checksum does not match the payload, BadDigest', async () => {
    const wrong = checksumOf('CRC32C', Buffer.from('other')).toString('base64');
    const { wire } = encodeSigned({ seedSignature: docTrailerSeed, chunks: docChunks, trailers: [['x-amz-checksum-crc32c', wrong]] });
    expectS3Error((await decode(opts, [wire])).error, 'BadDigest');
  });
});

describe('unsigned aws-chunked with trailers (what the SDKs send by default)', () => {
  const payload = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff));
  const chunks = [payload.subarray(0, 65536), payload.subarray(65536)];
  const crc = checksumOf('CRC64NVME', payload).toString('base64');
  const opts: AwsChunkedOptions = { trailer: 'x-amz-checksum-crc64nvme', decodedLength: payload.length };

  it('given a valid body in random splits, it decodes and verifies the checksum', async () => {
    const wire = encodeUnsigned(chunks, [['x-amz-checksum-crc64nvme', crc]]);
    const next = rng(seed + 3);
    for (let round = 0; round < 10; round++) {
      const { out, error, decoder } = await decode(opts, splitRandomly(wire, next, round < 5 ? 50 : 100_000));
      expect(error, `seed ${seed} round ${round}`).toBeUndefined();
      expect(out.equals(payload)).toBe(true);
      expect(decoder.checksum()).toEqual({ algorithm: 'CRC64NVME', value: crc });
    }
  });

  it('given a wrong checksum, BadDigest; a malformed one, InvalidRequest', async () => {
    const wrong = checksumOf('CRC64NVME', Buffer.from('x')).toString('base64');
    expectS3Error((await decode(opts, [encodeUnsigned(chunks, [['x-amz-checksum-crc64nvme', wrong]])])).error, 'BadDigest');
    expectS3Error((await decode(opts, [encodeUnsigned(chunks, [['x-amz-checksum-crc64nvme', 'abc']])])).error, 'InvalidRequest');
  });

  it('given a missing, undeclared or duplicated trailer, InvalidRequest', async () => {
    expectS3Error((await decode(opts, [encodeUnsigned(chunks)])).error, 'InvalidRequest');
    const undeclared = encodeUnsigned(chunks, [['x-amz-checksum-crc64nvme', crc], ['x-amz-meta-x', '1']]);
    expectS3Error((await decode(opts, [undeclared])).error, 'InvalidRequest');
    const twice = encodeUnsigned(chunks, [['x-amz-checksum-crc64nvme', crc], ['x-amz-checksum-crc64nvme', crc]]);
    expectS3Error((await decode(opts, [twice])).error, 'InvalidRequest');
    const noTrailerExpected = encodeUnsigned(chunks, [['x-amz-checksum-crc64nvme', crc]]);
    expectS3Error((await decode({ decodedLength: payload.length }, [noTrailerExpected])).error, 'InvalidRequest');
  });

  it('given malformed framing, InvalidRequest', async () => {
    const bad = async (wire: string | Buffer, o: AwsChunkedOptions = {}): Promise<void> =>
      expectS3Error((await decode(o, [Buffer.isBuffer(wire) ? wire : Buffer.from(wire, 'latin1')])).error, 'InvalidRequest');
    await bad('zz\r\nab\r\n0\r\n\r\n');
    await bad('2\r\nabX\r\n0\r\n\r\n');
    await bad('2\nab\r\n0\r\n\r\n');
    await bad('2\r\nab\r\n0\r\n\r\ngarbage');
    await bad(`${(limits.awsChunkBytesMax + 1).toString(16)}\r\n`);
    await bad(`1;${'x'.repeat(limits.awsChunkLineBytesMax + 10)}\r\na\r\n0\r\n\r\n`);
    await bad('2;chunk-signature=abc\r\nab\r\n', { signing: signing(docSeed) });
    await bad('2\r\nab\r\n0\r\n\r\n', { signing: signing(docSeed) });
  });

  it('given a body without trailers and without the final blank line, it still decodes', async () => {
    const { out, error } = await decode({}, [Buffer.from('3\r\nabc\r\n0\r\n')]);
    expect(error).toBeUndefined();
    expect(out.toString()).toBe('abc');
  });

  it('given an empty payload, it decodes to nothing', async () => {
    const { out, error } = await decode({ decodedLength: 0 }, [Buffer.from('0\r\n\r\n')]);
    expect(error).toBeUndefined();
    expect(out.length).toBe(0);
  });
});

describe('awsChunkedOptions', () => {
  const ok = (payload: Extract<AuthResult, { ok: true }>['payload']): Extract<AuthResult, { ok: true }> => ({
    ok: true,
    accessKeyId: 'a',
    region: 'r',
    presigned: false,
    payload,
    signing: signing(docSeed),
  });
  const opt = (headers: IncomingHttpHeaders, r: Extract<AuthResult, { ok: true }>): unknown => {
    const o = awsChunkedOptions(headers, r);
    return o instanceof S3Error ? o.code : o;
  };

  it('maps headers and payload mode to decoder options, or the AWS error', () => {
    expect(opt({}, ok({ kind: 'unsigned' }))).toBeUndefined();
    expect(opt({ 'x-amz-decoded-content-length': '5' }, ok({ kind: 'streaming-signed', trailer: false }))).toEqual({
      signing: signing(docSeed),
      decodedLength: 5,
    });
    expect(opt({}, ok({ kind: 'streaming-signed', trailer: false }))).toBe('MissingContentLength');
    expect(opt({ 'x-amz-decoded-content-length': 'x' }, ok({ kind: 'streaming-signed', trailer: false }))).toBe('InvalidArgument');
    expect(opt({ 'x-amz-trailer': 'x-amz-checksum-crc32' }, ok({ kind: 'streaming-unsigned-trailer' }))).toEqual({
      trailer: 'x-amz-checksum-crc32',
    });
    expect(opt({}, ok({ kind: 'streaming-unsigned-trailer' }))).toBe('InvalidRequest');
    expect(opt({ 'x-amz-trailer': 'x-amz-meta-a' }, ok({ kind: 'streaming-unsigned-trailer' }))).toBe('InvalidRequest');
    expect(
      opt({ 'x-amz-decoded-content-length': '1', 'x-amz-trailer': 'x-amz-checksum-crc32' }, ok({ kind: 'streaming-signed', trailer: false })),
    ).toBe('InvalidRequest');
  });

  it('strips aws-chunked from Content-Encoding', () => {
    expect(contentEncodingWithoutAwsChunked('aws-chunked')).toBeUndefined();
    expect(contentEncodingWithoutAwsChunked('gzip,aws-chunked')).toBe('gzip');
    expect(contentEncodingWithoutAwsChunked('aws-chunked, br')).toBe('br');
    expect(contentEncodingWithoutAwsChunked(undefined)).toBeUndefined();
  });
});

describe('body verifiers', () => {
  const drain = async (src: Buffer[], t: Transform): Promise<unknown> => {
    try {
      await pipeline(Readable.from(src), t, async (s: AsyncIterable<Buffer>) => {
        for await (const _ of s);
      });
      return undefined;
    } catch (e) {
      return e;
    }
  };

  it('given a body matching x-amz-content-sha256, it passes; otherwise XAmzContentSHA256Mismatch', async () => {
    const body = [Buffer.from('hello '), Buffer.from('world')];
    expect(await drain(body, createSha256Verifier(sha('hello world')))).toBeUndefined();
    expectS3Error(await drain(body, createSha256Verifier(sha('hello there'))), 'XAmzContentSHA256Mismatch');
  });

  it('given an x-amz-checksum-* header value, it passes on match, BadDigest on mismatch, InvalidRequest if malformed', async () => {
    const body = [Buffer.from('abc')];
    const good = createChecksumVerifier('CRC32', checksumOf('CRC32', Buffer.from('abc')).toString('base64'));
    if (good instanceof S3Error) throw good;
    expect(await drain(body, good)).toBeUndefined();
    const bad = createChecksumVerifier('CRC32', checksumOf('CRC32', Buffer.from('abd')).toString('base64'));
    if (bad instanceof S3Error) throw bad;
    expectS3Error(await drain(body, bad), 'BadDigest');
    expect((createChecksumVerifier('SHA256', 'AAAA') as S3Error).code).toBe('InvalidRequest');
  });
});

describe('throughput', () => {
  const mib = 1024 * 1024;
  const total = 100 * mib;
  const payload = Buffer.alloc(total, 0x5a);
  const chunkBytes = 64 * 1024;
  const chunks = Array.from({ length: total / chunkBytes }, (_, i) => payload.subarray(i * chunkBytes, (i + 1) * chunkBytes));

  async function timed(opts: AwsChunkedOptions, wire: Buffer): Promise<number> {
    const reads = splitRandomly(wire, rng(seed + 9), 128 * 1024);
    const decoder = createAwsChunkedDecoder(opts);
    let n = 0;
    const start = performance.now();
    await pipeline(Readable.from(reads), decoder, async (src: AsyncIterable<Buffer>) => {
      for await (const b of src) n += b.length;
    });
    const seconds = (performance.now() - start) / 1000;
    expect(n).toBe(total);
    return total / mib / seconds;
  }

  it('given 100 MiB unsigned with a CRC32 trailer, and signed in 64 KiB chunks, it decodes quickly', async () => {
    const crc = checksumOf('CRC32', payload).toString('base64');
    const unsignedRate = await timed(
      { trailer: 'x-amz-checksum-crc32', decodedLength: total },
      encodeUnsigned(chunks, [['x-amz-checksum-crc32', crc]]),
    );
    const signedRate = await timed(
      { signing: signing(docSeed), decodedLength: total },
      encodeSigned({ seedSignature: docSeed, chunks }).wire,
    );
    console.log(`aws-chunked decode: unsigned+CRC32 ${unsignedRate.toFixed(0)} MiB/s, signed ${signedRate.toFixed(0)} MiB/s`);
    // The rates are printed, not asserted tightly: shared machines vary several-fold. The floor
    // only catches pathologies such as re-buffering the body (quadratic) or copying per byte.
    expect(unsignedRate).toBeGreaterThan(10);
    expect(signedRate).toBeGreaterThan(10);
  });
});

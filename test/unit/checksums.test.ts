import { describe, expect, it } from 'vitest';
import {
  checksumAlgorithmFromHeaderName,
  checksumAlgorithms,
  checksumHeaderName,
  checksumOf,
  combineCrc,
  crc32,
  crc32c,
  crcImplementation,
  createChecksum,
  parseChecksumAlgorithm,
  portableCrc32,
  portableCrc32c,
} from '../../src/lib/checksums.ts';
import type { ChecksumAlgorithm, CrcAlgorithm } from '../../src/lib/checksums.ts';

/** mulberry32: small seeded PRNG so failures can be replayed from the printed seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBuffer(next: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

const seed = Number(process.env['TEST_SEED'] ?? Date.now() % 1_000_000);
console.log(`checksums.test seed=${seed} (TEST_SEED=${seed} to replay)`);

const crcs: CrcAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

describe('checksum vectors', () => {
  const check = Buffer.from('123456789');
  it.each([
    ['CRC32', 'cbf43926'],
    ['CRC32C', 'e3069283'],
    ['CRC64NVME', 'ae8b14860a799888'],
    ['SHA1', 'f7c3bc1d808e04732adf679965ccc34ca7ae3441'],
    ['SHA256', '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225'],
  ] as Array<[ChecksumAlgorithm, string]>)('given "123456789", %s digests to %s', (alg, hex) => {
    expect(checksumOf(alg, check).toString('hex')).toBe(hex);
  });

  it('given no bytes, the CRCs are zero', () => {
    for (const alg of crcs) expect(checksumOf(alg, Buffer.alloc(0)).readUIntBE(0, 4)).toBe(0);
  });

  it('given 32 zero bytes, CRC64NVME matches the published vector', () => {
    expect(checksumOf('CRC64NVME', Buffer.alloc(32)).toString('hex')).toBe('cf3473434d4ecf3b');
  });

  it('given the AWS trailer example body (66560 × "a"), CRC32C is sOO8/Q==', () => {
    expect(checksumOf('CRC32C', Buffer.alloc(66560, 'a')).toString('base64')).toBe('sOO8/Q==');
  });
});

describe('incremental hashing', () => {
  it('given random splits and unaligned views, every algorithm matches the one-shot digest', () => {
    const next = rng(seed);
    // An odd offset into a larger buffer exercises the unaligned head of the word-view path.
    const backing = randomBuffer(next, 100_003);
    const data = backing.subarray(3);
    for (const alg of checksumAlgorithms) {
      const whole = checksumOf(alg, data);
      for (let round = 0; round < 5; round++) {
        const c = createChecksum(alg);
        let pos = 0;
        while (pos < data.length) {
          const n = Math.min(data.length - pos, Math.floor(next() * 5000));
          c.update(data.subarray(pos, pos + n));
          pos += n;
        }
        expect(c.digest().equals(whole), `${alg} round ${round}`).toBe(true);
      }
    }
  });
});

describe('cross-check against the AWS SDK implementations', async () => {
  type SdkHash = { update(d: Uint8Array): void; digest(): Promise<Uint8Array> };
  type SdkCrc = Record<string, new () => SdkHash>;
  // The SDK's checksum package is a transitive dependency; skip rather than fail if it moves.
  const sdkModule = '@aws-sdk/checksums/crc';
  const sdk = (await import(sdkModule).catch(() => undefined)) as SdkCrc | undefined;
  const impls: Array<[CrcAlgorithm, string]> = [
    ['CRC32', 'Crc32'],
    ['CRC32C', 'Crc32cJs'],
    ['CRC64NVME', 'Crc64NvmeJs'],
  ];

  it.skipIf(!sdk).each(impls)('given random data, %s equals the SDK %s', async (alg, name) => {
    const Impl = sdk![name]!;
    const next = rng(seed + 1);
    for (const len of [0, 1, 7, 8, 9, 63, 64, 65, 1000, 65_536 + 13, 1_048_576]) {
      const data = randomBuffer(next, len + 1).subarray(1);
      const h = new Impl();
      h.update(data);
      const theirs = Buffer.from(await h.digest());
      expect(checksumOf(alg, data).toString('hex'), `${alg} len=${len}`).toBe(theirs.toString('hex'));
    }
  });
});

describe('combineCrc', () => {
  it('given two parts, combining their CRCs equals the CRC of the concatenation', () => {
    const next = rng(seed + 2);
    for (const alg of crcs) {
      for (const [la, lb] of [
        [0, 0],
        [0, 5],
        [5, 0],
        [1, 1],
        [17, 8],
        [1000, 4096],
        [65_537, 100_000],
      ] as Array<[number, number]>) {
        const a = randomBuffer(next, la);
        const b = randomBuffer(next, lb);
        const combined = combineCrc(alg, checksumOf(alg, a), checksumOf(alg, b), lb);
        expect(combined.toString('hex'), `${alg} ${la}+${lb}`).toBe(checksumOf(alg, Buffer.concat([a, b])).toString('hex'));
      }
    }
  });

  it('given many parts combined left to right, the result is the whole-object CRC', () => {
    const next = rng(seed + 3);
    for (const alg of crcs) {
      const parts = Array.from({ length: 20 }, () => randomBuffer(next, Math.floor(next() * 3000)));
      let acc = checksumOf(alg, parts[0]!);
      for (const p of parts.slice(1)) acc = combineCrc(alg, acc, checksumOf(alg, p), p.length);
      expect(acc.equals(checksumOf(alg, Buffer.concat(parts))), alg).toBe(true);
    }
  });

  it('given multi-GiB lengths, combining is associative (no data needed)', () => {
    const next = rng(seed + 4);
    for (const alg of crcs) {
      const width = alg === 'CRC64NVME' ? 8 : 4;
      const [a, b, c] = [randomBuffer(next, width), randomBuffer(next, width), randomBuffer(next, width)];
      const lb = 5 * 1024 ** 3 + 12_345;
      const lc = 3 * 1024 ** 3 + 1;
      const left = combineCrc(alg, combineCrc(alg, a, b, lb), c, lc);
      const right = combineCrc(alg, a, combineCrc(alg, b, c, lc), lb + lc);
      expect(left.equals(right), alg).toBe(true);
    }
  });

  it('given a digest of the wrong width, it throws', () => {
    expect(() => combineCrc('CRC64NVME', Buffer.alloc(4), Buffer.alloc(8), 1)).toThrow(RangeError);
  });
});

describe('names', () => {
  it('maps algorithms to header names and back', () => {
    for (const alg of checksumAlgorithms) {
      expect(checksumAlgorithmFromHeaderName(checksumHeaderName(alg))).toBe(alg);
      expect(parseChecksumAlgorithm(alg.toLowerCase())).toBe(alg);
    }
    expect(checksumHeaderName('CRC64NVME')).toBe('x-amz-checksum-crc64nvme');
    expect(parseChecksumAlgorithm('MD5')).toBeUndefined();
    expect(checksumAlgorithmFromHeaderName('x-amz-checksum-type')).toBeUndefined();
  });
});

describe('CRC32 and CRC32C: native and portable code agree', () => {
  it('loads the native code where a prebuilt binary exists (linux x64 glibc, as on CI)', () => {
    const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
    if (process.platform === 'linux' && process.arch === 'x64' && glibc !== undefined) expect(crcImplementation).toBe('native');
    else expect(['native', 'portable']).toContain(crcImplementation);
  });

  it.each([
    ['CRC32', crc32, portableCrc32],
    ['CRC32C', crc32c, portableCrc32c],
  ] as const)('%s: same value for sizes across the native threshold, unaligned, shared memory, continued', (_name, fast, portable) => {
    const next = rng(seed + 5);
    const shared = new SharedArrayBuffer(70_000);
    const sharedView = Buffer.from(shared);
    sharedView.set(randomBuffer(next, shared.byteLength));
    for (const size of [0, 1, 7, 63, 1023, 1024, 1025, 4096, 4144, 65_536, 65_537]) {
      const offset = Math.floor(next() * 8);
      const whole = randomBuffer(next, size + offset).subarray(offset);
      expect(fast(whole)).toBe(portable(whole));
      const sharedPart = sharedView.subarray(offset, offset + size);
      expect(fast(sharedPart)).toBe(portable(sharedPart));
      // Continued over a random split (either side may fall below the native threshold).
      const cut = Math.floor(next() * (size + 1));
      expect(fast(whole.subarray(cut), fast(whole.subarray(0, cut)))).toBe(portable(whole));
    }
    // Above 2^31 the previous value must not be taken as negative.
    const big = randomBuffer(next, 2048);
    const high = portable(Buffer.from('a previous part whose crc has its top bit set?'));
    expect(fast(big, 0xf0000001)).toBe(portable(big, 0xf0000001));
    expect(fast(big, high)).toBe(portable(big, high));
  });
});

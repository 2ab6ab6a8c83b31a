/**
 * Seeded pseudo-random numbers for tests (sfc32, seeded through splitmix32), so a failing run
 * can be repeated: every test that draws from one prints its seed, and STRATA_TEST_SEED replays it.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform integer in [0, n). */
  below(n: number): number;
  /** Fills `out` with random bytes. */
  fill(out: Buffer): void;
}

/** The seed to use: STRATA_TEST_SEED when set, else a fresh one. Printed with `label` either way. */
export function testSeed(label: string): number {
  const fromEnv = process.env['STRATA_TEST_SEED'];
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`[seed] ${label}: ${seed} (replay with STRATA_TEST_SEED=${seed})`);
  return seed;
}

export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const u32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  return {
    u32,
    below: (n) => Math.floor((u32() / 2 ** 32) * n),
    fill(out) {
      const words = out.length >>> 2;
      for (let i = 0; i < words; i++) out.writeUInt32LE(u32(), i * 4);
      for (let i = words * 4; i < out.length; i++) out[i] = u32() & 0xff;
    },
  };
}

export function randomBuffer(rng: Rng, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  rng.fill(b);
  return b;
}

export function sha256Hex(data: Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A Readable of `size` seeded random bytes, generated chunk by chunk as it is read (never the
 * whole body in memory), hashing what it hands out: `digest()` and `md5()` are the SHA-256 and
 * MD5 (hex) of every byte read; call each once, after the stream ended.
 */
export function randomReadable(
  seed: number,
  size: number,
  chunkBytes = 256 * 1024,
): Readable & { digest(): string; md5(): string; produced(): number } {
  const rng = createRng(seed);
  const hash: Hash = createHash('sha256');
  const md5: Hash = createHash('md5');
  let produced = 0;
  const stream = new Readable({
    highWaterMark: chunkBytes,
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(chunkBytes, size - produced);
      const chunk = randomBuffer(rng, n);
      produced += n;
      hash.update(chunk);
      md5.update(chunk);
      this.push(chunk);
    },
  });
  return Object.assign(stream, {
    digest: () => hash.digest('hex'),
    md5: () => md5.digest('hex'),
    produced: () => produced,
  });
}

/** SHA-256 and length of a body read as a stream, chunk by chunk. */
export async function hashStream(body: AsyncIterable<Uint8Array>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

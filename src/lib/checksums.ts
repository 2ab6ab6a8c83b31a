/**
 * The S3 flexible checksum algorithms behind one incremental interface, plus CRC combination.
 *
 * Digests are the raw big-endian bytes; S3 headers (`x-amz-checksum-crc32` ...) carry their
 * base64. CRC32 and CRC32C run in native SIMD code where it loads (`crc32`, `crc32c` below);
 * CRC64NVME, and CRC32C where the native code is missing, are table-driven JS using slicing-by-8
 * (eight bytes per step), which V8 runs at several hundred MB/s. CRC64 is kept as two 32-bit
 * halves so that no BigInt work happens per byte.
 *
 * `combineCrc` gives crc(A ‖ B) from crc(A), crc(B) and len(B) (zlib's crc32_combine, generic over
 * the polynomial): full-object checksums of multipart uploads are built from part CRCs with it.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { limits } from './limits.ts';

// ---------------------------------------------------------------------------------------------
// CRC32 and CRC32C of byte ranges: every record checksum, shard checksum and S3 CRC32 goes here.
//
// @node-rs/crc32 ships a prebuilt binary per platform (no install script; on x64 it folds with
// PCLMULQDQ for CRC32 and uses SSE4.2 for CRC32C): CRC32 of 1 MiB in 0.09 ms against zlib's
// 0.52 ms, of a 4 KiB record in 0.67 µs against 2.4 µs. Where its binary does not load (a platform
// without one, an install with optional dependencies left out) zlib's crc32 and the slicing-by-8
// CRC32C below give the same values, slower. Below `nativeCrcBytesMin` zlib is used anyway: the
// native call costs ~0.3 µs more to enter, which record headers (44–64 bytes) would pay each time.

interface NativeCrc {
  crc32(input: Uint8Array, initialState?: number): number;
  crc32c(input: Uint8Array, initialState?: number): number;
}

function loadNativeCrc(): NativeCrc | undefined {
  try {
    return createRequire(import.meta.url)('@node-rs/crc32') as NativeCrc;
  } catch {
    return undefined;
  }
}

const nativeCrc = loadNativeCrc();
const nativeCrcBytesMin = 1024;

/** Which code computes CRC32 and CRC32C in this process (the bench prints it; Strata says so at start when 'portable'). */
export const crcImplementation: 'native' | 'portable' = nativeCrc === undefined ? 'portable' : 'native';

/** CRC32 (ISO-HDLC, zlib's) of `buf`, continuing from `previous` (the CRC32 of the bytes before). */
export function crc32(buf: Uint8Array, previous = 0): number {
  if (nativeCrc !== undefined && buf.length >= nativeCrcBytesMin) return nativeCrc.crc32(buf, previous);
  return zlibCrc32(buf, previous);
}

/** CRC32C (Castagnoli) of `buf`, continuing from `previous`, as `crc32`. */
export function crc32c(buf: Uint8Array, previous = 0): number {
  if (nativeCrc !== undefined && buf.length >= nativeCrcBytesMin) return nativeCrc.crc32c(buf, previous);
  return portableCrc32c(buf, previous);
}

/** The portable code paths, exported so that tests hold them to the native results. */
export function portableCrc32(buf: Uint8Array, previous = 0): number {
  return zlibCrc32(buf, previous);
}

export function portableCrc32c(buf: Uint8Array, previous = 0): number {
  return ~crc32cUpdate(~previous, buf) >>> 0;
}

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

export const checksumAlgorithms: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** Digest length in bytes: what a decoded base64 checksum header must measure. */
export const checksumDigestBytes: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

export interface Checksum {
  update(buf: Uint8Array): void;
  /** Raw digest bytes. Call once, after the last update. */
  digest(): Buffer;
}

export function createChecksum(alg: ChecksumAlgorithm): Checksum {
  switch (alg) {
    case 'CRC32':
      return new Crc32();
    case 'CRC32C':
      return new Crc32c();
    case 'CRC64NVME':
      return new Crc64Nvme();
    case 'SHA1':
      return createHash('sha1');
    case 'SHA256':
      return createHash('sha256');
  }
}

/** One-shot digest of a whole buffer. */
export function checksumOf(alg: ChecksumAlgorithm, buf: Uint8Array): Buffer {
  const c = createChecksum(alg);
  c.update(buf);
  return c.digest();
}

/** `CRC64NVME` → `x-amz-checksum-crc64nvme`. */
export function checksumHeaderName(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

/** Parses the value of `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm` (any case). */
export function parseChecksumAlgorithm(s: string): ChecksumAlgorithm | undefined {
  const upper = s.trim().toUpperCase();
  return (checksumAlgorithms as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}

/** `x-amz-checksum-crc32` (any case) → `CRC32`; anything else → undefined. */
export function checksumAlgorithmFromHeaderName(name: string): ChecksumAlgorithm | undefined {
  const lower = name.trim().toLowerCase();
  const prefix = 'x-amz-checksum-';
  return lower.startsWith(prefix) ? parseChecksumAlgorithm(lower.slice(prefix.length)) : undefined;
}

// ---------------------------------------------------------------------------------------------
// CRC32 (ISO-HDLC, the zlib one)

class Crc32 implements Checksum {
  private crc = 0;
  update(buf: Uint8Array): void {
    this.crc = crc32(buf, this.crc);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(this.crc >>> 0, 0);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// CRC32C (Castagnoli), reflected polynomial 0x82f63b78, slicing-by-8.

const CRC32C_POLY = 0x82f63b78;

/** Eight 256-entry tables in one array: table k at offset 256·k advances a byte by k more zero bytes. */
function slicingTables32(poly: number): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + i] = c;
    }
  }
  return t;
}

let crc32cTable: Int32Array | undefined;

/**
 * Whole 32-bit words are read through an Int32Array view of the aligned middle of the buffer:
 * that halves the time against assembling words from bytes. The view's byte order is the host's,
 * so big-endian hosts take the byte-assembling path.
 */
const wordViews = endianness() === 'LE';
/** Below this many bytes a typed-array view costs more than it saves. */
const wordViewBytesMin = 64;

/** Raw (unconditioned) CRC32C register update. */
export function crc32cUpdate(crcIn: number, buf: Uint8Array): number {
  const t = (crc32cTable ??= slicingTables32(CRC32C_POLY));
  let crc = crcIn | 0;
  let i = 0;
  const n = buf.length;
  if (wordViews && n >= wordViewBytesMin) {
    while (((buf.byteOffset + i) & 3) !== 0) {
      crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
      i++;
    }
    const words = ((n - i) >>> 3) << 1;
    const w = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let j = 0; j < words; j += 2) {
      const a = crc ^ w[j]!;
      const b = w[j + 1]!;
      crc =
        t[1792 + (a & 0xff)]! ^
        t[1536 + ((a >>> 8) & 0xff)]! ^
        t[1280 + ((a >>> 16) & 0xff)]! ^
        t[1024 + (a >>> 24)]! ^
        t[768 + (b & 0xff)]! ^
        t[512 + ((b >>> 8) & 0xff)]! ^
        t[256 + ((b >>> 16) & 0xff)]! ^
        t[b >>> 24]!;
    }
    i += words * 4;
  } else {
    const end8 = n - (n % 8);
    while (i < end8) {
      const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
      const b = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
      crc =
        t[1792 + (a & 0xff)]! ^
        t[1536 + ((a >>> 8) & 0xff)]! ^
        t[1280 + ((a >>> 16) & 0xff)]! ^
        t[1024 + (a >>> 24)]! ^
        t[768 + (b & 0xff)]! ^
        t[512 + ((b >>> 8) & 0xff)]! ^
        t[256 + ((b >>> 16) & 0xff)]! ^
        t[b >>> 24]!;
      i += 8;
    }
  }
  while (i < n) {
    crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
    i++;
  }
  return crc;
}

class Crc32c implements Checksum {
  private crc = 0;
  update(buf: Uint8Array): void {
    this.crc = crc32c(buf, this.crc);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(this.crc >>> 0, 0);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// CRC64/NVME, reflected polynomial 0x9a6c9329ac4bc9b5, slicing-by-8 on (hi, lo) 32-bit halves.

const CRC64NVME_POLY_HI = 0x9a6c9329;
const CRC64NVME_POLY_LO = 0xac4bc9b5 | 0;

let crc64Tables: { hi: Int32Array; lo: Int32Array } | undefined;

function crc64NvmeTables(): { hi: Int32Array; lo: Int32Array } {
  const hi = new Int32Array(8 * 256);
  const lo = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let h = 0;
    let l = i;
    for (let j = 0; j < 8; j++) {
      const carry = l & 1;
      l = (l >>> 1) | ((h & 1) << 31);
      h = h >>> 1;
      if (carry) {
        h ^= CRC64NVME_POLY_HI;
        l ^= CRC64NVME_POLY_LO;
      }
    }
    hi[i] = h;
    lo[i] = l;
  }
  for (let i = 0; i < 256; i++) {
    let h = hi[i]!;
    let l = lo[i]!;
    for (let k = 1; k < 8; k++) {
      // Shift the 64-bit register right by one byte and fold the byte that fell out.
      const idx = l & 0xff;
      const nl = (l >>> 8) | (h << 24);
      const nh = h >>> 8;
      h = nh ^ hi[idx]!;
      l = nl ^ lo[idx]!;
      hi[k * 256 + i] = h;
      lo[k * 256 + i] = l;
    }
  }
  return { hi, lo };
}

/** Raw CRC64NVME register update on reg = [hi, lo], in place. */
function crc64NvmeUpdate(reg: Int32Array, buf: Uint8Array): void {
  const { hi: th, lo: tl } = (crc64Tables ??= crc64NvmeTables());
  let h = reg[0]!;
  let l = reg[1]!;
  let i = 0;
  const n = buf.length;
  if (wordViews && n >= wordViewBytesMin) {
    while (((buf.byteOffset + i) & 3) !== 0) {
      const idx = (l ^ buf[i]!) & 0xff;
      l = ((l >>> 8) | (h << 24)) ^ tl[idx]!;
      h = (h >>> 8) ^ th[idx]!;
      i++;
    }
    const words = ((n - i) >>> 3) << 1;
    const w = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let j = 0; j < words; j += 2) {
      // Little-endian: the low word of the register meets the first four bytes.
      const a = l ^ w[j]!;
      const b = h ^ w[j + 1]!;
      const i0 = 1792 + (a & 0xff);
      const i1 = 1536 + ((a >>> 8) & 0xff);
      const i2 = 1280 + ((a >>> 16) & 0xff);
      const i3 = 1024 + (a >>> 24);
      const i4 = 768 + (b & 0xff);
      const i5 = 512 + ((b >>> 8) & 0xff);
      const i6 = 256 + ((b >>> 16) & 0xff);
      const i7 = b >>> 24;
      h = th[i0]! ^ th[i1]! ^ th[i2]! ^ th[i3]! ^ th[i4]! ^ th[i5]! ^ th[i6]! ^ th[i7]!;
      l = tl[i0]! ^ tl[i1]! ^ tl[i2]! ^ tl[i3]! ^ tl[i4]! ^ tl[i5]! ^ tl[i6]! ^ tl[i7]!;
    }
    i += words * 4;
  } else {
    const end8 = n - (n % 8);
    while (i < end8) {
      const a = l ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
      const b = h ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24));
      const i0 = 1792 + (a & 0xff);
      const i1 = 1536 + ((a >>> 8) & 0xff);
      const i2 = 1280 + ((a >>> 16) & 0xff);
      const i3 = 1024 + (a >>> 24);
      const i4 = 768 + (b & 0xff);
      const i5 = 512 + ((b >>> 8) & 0xff);
      const i6 = 256 + ((b >>> 16) & 0xff);
      const i7 = b >>> 24;
      h = th[i0]! ^ th[i1]! ^ th[i2]! ^ th[i3]! ^ th[i4]! ^ th[i5]! ^ th[i6]! ^ th[i7]!;
      l = tl[i0]! ^ tl[i1]! ^ tl[i2]! ^ tl[i3]! ^ tl[i4]! ^ tl[i5]! ^ tl[i6]! ^ tl[i7]!;
      i += 8;
    }
  }
  while (i < n) {
    const idx = (l ^ buf[i]!) & 0xff;
    l = ((l >>> 8) | (h << 24)) ^ tl[idx]!;
    h = (h >>> 8) ^ th[idx]!;
    i++;
  }
  reg[0] = h;
  reg[1] = l;
}

class Crc64Nvme implements Checksum {
  /** [hi, lo] halves of the register. */
  private readonly reg = Int32Array.of(-1, -1);
  update(buf: Uint8Array): void {
    crc64NvmeUpdate(this.reg, buf);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(~this.reg[0]! >>> 0, 0);
    out.writeUInt32BE(~this.reg[1]! >>> 0, 4);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// CRC combination over GF(2), as zlib's crc32_combine: crc(A‖B) = (x^(8·lenB) · crc(A)) mod P ⊕ crc(B).
// Values are reflected polynomials held as (hi, lo) 32-bit halves; for 32-bit CRCs hi is 0 and
// the "top" bit (x^0) is bit 31 of lo.

interface CrcPoly {
  readonly width: 32 | 64;
  readonly polyHi: number;
  readonly polyLo: number;
  /** x2n[k] = x^(2^k) mod P, filled lazily. */
  x2n?: Array<[number, number]>;
  /** x^(8·len) mod P by len: multipart parts mostly share one length, so this is nearly always hit. */
  readonly shiftByLen: Map<number, [number, number]>;
}

const crcPolys: Record<CrcAlgorithm, CrcPoly> = {
  CRC32: { width: 32, polyHi: 0, polyLo: 0xedb88320 | 0, shiftByLen: new Map() },
  CRC32C: { width: 32, polyHi: 0, polyLo: CRC32C_POLY | 0, shiftByLen: new Map() },
  CRC64NVME: { width: 64, polyHi: CRC64NVME_POLY_HI | 0, polyLo: CRC64NVME_POLY_LO, shiftByLen: new Map() },
};

/** The register with only x^k set (x^0 is the most significant bit in reflected form). */
function monomial(p: CrcPoly, k: number): [number, number] {
  const bit = p.width - 1 - k;
  return bit >= 32 ? [(1 << (bit - 32)) | 0, 0] : [0, (1 << bit) | 0];
}

/** a(x)·b(x) mod P. */
function multModP(p: CrcPoly, aIn: [number, number], bIn: [number, number]): [number, number] {
  let [ah, al] = aIn;
  let [bh, bl] = bIn;
  let ph = 0;
  let pl = 0;
  // Walk a's coefficients from x^0 (top bit) down; b is multiplied by x each step.
  for (let k = 0; k < p.width; k++) {
    const bit = p.width - 1 - k;
    const set = bit >= 32 ? (ah >>> (bit - 32)) & 1 : (al >>> bit) & 1;
    if (set) {
      ph ^= bh;
      pl ^= bl;
      if (bit >= 32) ah &= ~(1 << (bit - 32));
      else al &= ~(1 << bit);
      if ((ah | al) === 0) break;
    }
    const carry = bl & 1;
    bl = (bl >>> 1) | ((bh & 1) << 31);
    bh = bh >>> 1;
    if (carry) {
      bh ^= p.polyHi;
      bl ^= p.polyLo;
    }
  }
  if (p.width === 32) ph = 0;
  return [ph, pl];
}

function x2nTable(p: CrcPoly): Array<[number, number]> {
  if (p.x2n) return p.x2n;
  const table: Array<[number, number]> = [];
  let v = monomial(p, 1);
  for (let k = 0; k < 64; k++) {
    table.push(v);
    v = multModP(p, v, v);
  }
  p.x2n = table;
  return table;
}

/** x^(8·lenBytes) mod P by square-and-multiply over the bits of the bit length. */
function xPow8nModP(p: CrcPoly, lenBytes: number): [number, number] {
  const cached = p.shiftByLen.get(lenBytes);
  if (cached) return cached;
  const table = x2nTable(p);
  let r = monomial(p, 0);
  let n = lenBytes;
  let k = 3;
  while (n > 0) {
    if (n % 2 === 1) r = multModP(p, table[k]!, r);
    n = Math.floor(n / 2);
    k++;
  }
  if (p.shiftByLen.size >= limits.crcCombineCacheEntriesMax) p.shiftByLen.clear();
  p.shiftByLen.set(lenBytes, r);
  return r;
}

function toHalves(p: CrcPoly, crc: Uint8Array): [number, number] {
  const b = Buffer.from(crc.buffer, crc.byteOffset, crc.byteLength);
  return p.width === 64 ? [b.readUInt32BE(0) | 0, b.readUInt32BE(4) | 0] : [0, b.readUInt32BE(0) | 0];
}

/**
 * crc(A ‖ B) from the digests of A and B (raw big-endian bytes as `digest()` returns) and the
 * byte length of B. Cost is O(log lenB) polynomial products, independent of the data.
 */
export function combineCrc(alg: CrcAlgorithm, crcA: Uint8Array, crcB: Uint8Array, lenB: number): Buffer {
  const p = crcPolys[alg];
  const bytes = p.width / 8;
  if (crcA.length !== bytes || crcB.length !== bytes) throw new RangeError(`${alg} digests are ${bytes} bytes`);
  if (!Number.isSafeInteger(lenB) || lenB < 0) throw new RangeError('lenB must be a non-negative safe integer');
  const [ah, al] = multModP(p, xPow8nModP(p, lenB), toHalves(p, crcA));
  const [bh, bl] = toHalves(p, crcB);
  const out = Buffer.allocUnsafe(bytes);
  if (p.width === 64) {
    out.writeUInt32BE((ah ^ bh) >>> 0, 0);
    out.writeUInt32BE((al ^ bl) >>> 0, 4);
  } else {
    out.writeUInt32BE((al ^ bl) >>> 0, 0);
  }
  return out;
}

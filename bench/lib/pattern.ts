/**
 * Deterministic object bodies: xorshift32 from a seed, so the bench, the loopback server and a
 * later verification all agree on the bytes of body `seed` without storing them. Random-looking
 * bytes keep any compression or dedup from flattering the numbers.
 */
export function patternBuffer(sizeBytes: number, seed: number): Buffer {
  const buf = Buffer.alloc(sizeBytes);
  const words = new Uint32Array(buf.buffer, buf.byteOffset, Math.floor(sizeBytes / 4));
  // A zero state would stay zero; fold the seed into an odd constant.
  let x = (Math.imul(seed + 1, 0x9e3779b1) | 1) >>> 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < sizeBytes; i++) buf[i] = i & 0xff;
  return buf;
}

export function sizeLabel(sizeBytes: number): string {
  if (sizeBytes >= 1024 * 1024 && sizeBytes % (1024 * 1024) === 0) return `${sizeBytes / (1024 * 1024)} MiB`;
  if (sizeBytes >= 1024 && sizeBytes % 1024 === 0) return `${sizeBytes / 1024} KiB`;
  return `${sizeBytes} B`;
}

/** `4kib`, `1mib`: for ids and object keys. */
export function sizeSlug(sizeBytes: number): string {
  return sizeLabel(sizeBytes).replace(' ', '').toLowerCase();
}

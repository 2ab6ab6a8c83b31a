/**
 * Ceiling (c): MD5 of 1 MiB buffers on one core. The gateway computes every object's ETag as the
 * MD5 of its body on its event loop, so a single-threaded gateway cannot PUT faster than this.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { patternBuffer } from '../lib/pattern.ts';
import type { BenchContext, Section, SectionResult } from '../types.ts';

const mib = 1024 * 1024;

const title = 'Ceiling: MD5 hashing of 1 MiB buffers (one core)';

export const md5Section: Section = {
  name: 'md5',
  title,
  ceilings: [],
  async run(ctx: BenchContext): Promise<SectionResult> {
    const buf = patternBuffer(mib, 7);
    // Warm the JIT and the OpenSSL code path before timing.
    for (let i = 0; i < 16; i++) createHash('md5').update(buf).digest();
    let n = 0;
    const start = performance.now();
    const deadline = start + ctx.options.md5Ms;
    while (performance.now() < deadline) {
      createHash('md5').update(buf).digest();
      n++;
    }
    const seconds = (performance.now() - start) / 1000;
    const mibPerSec = n / seconds;
    ctx.progress(`md5: ${mibPerSec.toFixed(0)} MiB/s`);
    return {
      name: 'md5',
      title,
      cells: [],
      figures: [{ id: 'md5.mibps', label: 'MD5 of 1 MiB buffers, one core', value: mibPerSec, unit: 'MiB/s' }],
      notes: [],
    };
  },
};

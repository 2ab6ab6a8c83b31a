/**
 * Request, event and version ids: the shapes AWS clients and our parsers expect, and random parts
 * that never repeat while the ids share one block of CSPRNG bytes (lib/ids.ts) — mixed kinds, many
 * refills of the block.
 */
import { describe, expect, it } from 'vitest';
import { isWellFormedVersionId, newEventId, newRequestId, newShardId, newVersionId } from '../../src/lib/ids.ts';

describe('ids', () => {
  it('have their shapes, and no random part repeats across refills of the shared random block', () => {
    const randomParts = new Set<string>();
    let made = 0;
    // 4 KiB per block, 8–10 bytes per id: 3,000 rounds of four ids go through ~27 blocks, with ids
    // straddling no block boundary (each is drawn whole).
    for (let i = 0; i < 3000; i++) {
      const request = newRequestId();
      expect(request).toMatch(/^[0-9A-F]{16}$/);
      const event = newEventId(1_700_000_000_000 + i);
      expect(event.slice(0, 9)).toBe((1_700_000_000_000 + i).toString(36).padStart(9, '0'));
      const version = newVersionId(1_700_000_000_000);
      expect(isWellFormedVersionId(version)).toBe(true);
      expect(isWellFormedVersionId(event)).toBe(true);
      const shard = newShardId(1_700_000_000_000);
      expect(shard).toMatch(/^[0-9a-f]{32}$/);
      for (const part of [request.toLowerCase(), event.slice(9), version.slice(9), shard.slice(12)]) randomParts.add(part);
      made += 4;
    }
    expect(randomParts.size).toBe(made);
  });

  it('event and version ids sort by their time', () => {
    const a = newEventId(1_700_000_000_000);
    const b = newEventId(1_700_000_000_001);
    expect(a < b).toBe(true);
    expect(newVersionId(5) < newVersionId(36 ** 3)).toBe(true);
  });
});

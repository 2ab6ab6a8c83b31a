/**
 * The expected answer of a ListObjects request, computed the simplest way: sort every key by its
 * UTF-8 bytes, keep those under the prefix and after the marker, fold keys holding the delimiter
 * into common prefixes. The gateway's listing (LMDB range scans with seeks) must agree with it.
 */
export interface ModelEntry {
  readonly kind: 'key' | 'prefix';
  readonly value: string;
}

export function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function modelList(keys: Iterable<string>, q: { prefix?: string; delimiter?: string; after?: string }): ModelEntry[] {
  const prefix = q.prefix ?? '';
  const delimiter = q.delimiter ?? '';
  const after = q.after ?? '';
  const out: ModelEntry[] = [];
  const seen = new Set<string>();
  for (const key of [...new Set(keys)].sort(utf8Compare)) {
    if (!key.startsWith(prefix)) continue;
    const at = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    if (at >= 0) {
      const cp = key.slice(0, at + delimiter.length);
      if (seen.has(cp) || (after !== '' && utf8Compare(cp, after) <= 0)) continue;
      seen.add(cp);
      out.push({ kind: 'prefix', value: cp });
    } else {
      if (after !== '' && utf8Compare(key, after) <= 0) continue;
      out.push({ kind: 'key', value: key });
    }
  }
  return out;
}

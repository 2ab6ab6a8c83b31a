/**
 * ListObjectVersions paging, checked against the S3 model. The SDK splits each page into
 * Versions, DeleteMarkers and CommonPrefixes (their interleaving is lost), so a page is compared
 * as the set of items it holds with the model's slice at the same offset: the concatenated pages
 * must be the full listing, in order up to page granularity (exactly, with max-keys 1).
 */
import { ListObjectVersionsCommand, type ListObjectVersionsCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import type { ModelVersionItem, S3Model } from './s3-model.ts';

/** One page's items, named as `modelItemName` names the model's. */
export function pageItems(r: ListObjectVersionsCommandOutput): string[] {
  return [
    ...(r.Versions ?? []).map((v) => `v ${v.Key ?? ''} ${v.VersionId ?? ''} ${String(v.IsLatest)} ${v.ETag ?? ''}`),
    ...(r.DeleteMarkers ?? []).map((m) => `m ${m.Key ?? ''} ${m.VersionId ?? ''} ${String(m.IsLatest)}`),
    ...(r.CommonPrefixes ?? []).map((p) => `p ${p.Prefix ?? ''}`),
  ].sort();
}

export function modelItemName(i: ModelVersionItem): string {
  if (i.kind === 'prefix') return `p ${i.prefix}`;
  const e = i.entry;
  return e.deleteMarker ? `m ${e.key} ${e.versionId} ${String(e.isLatest)}` : `v ${e.key} ${e.versionId} ${String(e.isLatest)} "${e.etag}"`;
}

/** Pages through ListObjectVersions with `maxKeys` and expects the model's listing. */
export async function expectVersionPages(
  s3: S3Client,
  model: S3Model,
  q: { bucket: string; maxKeys: number; prefix?: string; delimiter?: string },
): Promise<void> {
  const prefix = q.prefix ?? '';
  const delimiter = q.delimiter ?? '';
  const expected = model.listVersionItems(q.bucket, prefix, delimiter).map(modelItemName);
  const where = `${q.bucket} max-keys ${q.maxKeys} prefix ${JSON.stringify(prefix)} delimiter ${JSON.stringify(delimiter)}`;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  let offset = 0;
  for (let page = 0; page <= expected.length + 1; page++) {
    const r = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: q.bucket,
        MaxKeys: q.maxKeys,
        ...(prefix === '' ? {} : { Prefix: prefix }),
        ...(delimiter === '' ? {} : { Delimiter: delimiter }),
        ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
        ...(versionIdMarker === undefined ? {} : { VersionIdMarker: versionIdMarker }),
      }),
    );
    const items = pageItems(r);
    expect(items, `${where}: page ${page} at offset ${offset}`).toEqual(expected.slice(offset, offset + items.length).sort());
    offset += items.length;
    expect(r.MaxKeys, where).toBe(q.maxKeys);
    if (!r.IsTruncated) break;
    expect(items.length, `${where}: a truncated page is full`).toBe(q.maxKeys);
    expect(r.NextKeyMarker, `${where}: NextKeyMarker`).toBeDefined();
    keyMarker = r.NextKeyMarker;
    versionIdMarker = r.NextVersionIdMarker;
  }
  expect(offset, `${where}: every item listed`).toBe(expected.length);
}

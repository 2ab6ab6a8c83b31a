/**
 * A deliberately simple in-memory model of S3's bucket, versioning and object semantics, for
 * tests to compare the gateway against. Version ids are issued by the server, so the model is
 * told them (it checks only that their form fits the bucket's versioning state); everything else
 * (which version is the latest, null-version replacement, delete markers, what a listing shows,
 * whether a bucket is empty) it decides on its own, from AWS's documented rules:
 *
 * - Unversioned: a PUT replaces the key's "null" version; a DELETE removes it.
 * - Enabled: a PUT adds a new version; a DELETE adds a delete marker with a new version id.
 * - Suspended: a PUT replaces the "null" version (wherever it is in the history) with a new
 *   latest "null" version; a DELETE does the same with a "null" delete marker. Real versions stay.
 * - DELETE ?versionId removes that version for good; the next newer-to-older one becomes latest.
 * - A bucket never returns to Unversioned, and can be deleted only with no versions left.
 */
import { utf8Compare } from './listing-model.ts';

export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';

export interface ModelVersion {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  /** ETag without quotes ('' for a delete marker). */
  readonly etag: string;
  readonly body: string;
}

export interface ModelBucket {
  versioning: VersioningState;
  /** Per key, every version newest first. A key with no versions is absent. */
  readonly keys: Map<string, ModelVersion[]>;
}

export type ModelRead =
  | { readonly kind: 'no-bucket' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'no-version' }
  | { readonly kind: 'delete-marker'; readonly versionId: string }
  | { readonly kind: 'found'; readonly version: ModelVersion };

export interface ModelVersionEntry {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  readonly etag: string;
}

export type ModelVersionItem = { readonly kind: 'version'; readonly entry: ModelVersionEntry } | { readonly kind: 'prefix'; readonly prefix: string };

export const nullVersion = 'null';

export class S3Model {
  readonly buckets = new Map<string, ModelBucket>();

  private bucket(name: string): ModelBucket {
    const b = this.buckets.get(name);
    if (!b) throw new Error(`model: no bucket ${name}`);
    return b;
  }

  createBucket(name: string): 'ok' | 'BucketAlreadyOwnedByYou' {
    if (this.buckets.has(name)) return 'BucketAlreadyOwnedByYou';
    this.buckets.set(name, { versioning: 'Unversioned', keys: new Map() });
    return 'ok';
  }

  deleteBucket(name: string): 'ok' | 'NoSuchBucket' | 'BucketNotEmpty' {
    const b = this.buckets.get(name);
    if (!b) return 'NoSuchBucket';
    if (b.keys.size > 0) return 'BucketNotEmpty';
    this.buckets.delete(name);
    return 'ok';
  }

  setVersioning(name: string, status: 'Enabled' | 'Suspended'): void {
    this.bucket(name).versioning = status;
  }

  /** Whether a write to this bucket now gets a real version id (else "null"). */
  issuesVersionIds(name: string): boolean {
    return this.bucket(name).versioning === 'Enabled';
  }

  /** Whether answers about this bucket's objects carry x-amz-version-id. */
  isVersioned(name: string): boolean {
    return this.bucket(name).versioning !== 'Unversioned';
  }

  /** A PUT the server answered with `versionId` (undefined when it sent no header). */
  put(name: string, key: string, versionId: string | undefined, etag: string, body: string): void {
    const b = this.bucket(name);
    // A PUT that writes the null version (suspended bucket) answers without x-amz-version-id, as
    // AWS's PutObject sample for a versioning-suspended bucket shows; a DELETE names its "null".
    if (b.versioning === 'Suspended' && versionId !== undefined) throw new Error(`model: a PUT to a suspended bucket answers no version id, got ${versionId}`);
    const id = b.versioning === 'Suspended' ? nullVersion : this.expectIdForm(b, versionId);
    this.pushNewest(b, key, { versionId: id, deleteMarker: false, etag, body });
  }

  /**
   * A plain DELETE; `versionId` is what the server answered. Returns what S3 answers: on an
   * unversioned bucket nothing; otherwise the new delete marker's id.
   */
  delete(name: string, key: string, versionId: string | undefined): { deleteMarker: boolean; versionId?: string } {
    const b = this.bucket(name);
    if (b.versioning === 'Unversioned') {
      this.removeVersion(b, key, nullVersion);
      return { deleteMarker: false };
    }
    const id = this.expectIdForm(b, versionId);
    this.pushNewest(b, key, { versionId: id, deleteMarker: true, etag: '', body: '' });
    return { deleteMarker: true, versionId: id };
  }

  /** DELETE ?versionId: what was removed (undefined when there was no such version). */
  deleteVersion(name: string, key: string, versionId: string): ModelVersion | undefined {
    return this.removeVersion(this.bucket(name), key, versionId);
  }

  get(name: string, key: string, versionId?: string): ModelRead {
    const b = this.buckets.get(name);
    if (!b) return { kind: 'no-bucket' };
    const versions = b.keys.get(key) ?? [];
    const v = versionId === undefined ? versions[0] : versions.find((x) => x.versionId === versionId);
    if (!v) return { kind: versionId === undefined ? 'missing' : 'no-version' };
    if (v.deleteMarker) return { kind: 'delete-marker', versionId: v.versionId };
    return { kind: 'found', version: v };
  }

  versionsOf(name: string, key: string): readonly ModelVersion[] {
    return this.bucket(name).keys.get(key) ?? [];
  }

  /** ListObjects: keys whose latest version is not a delete marker, in UTF-8 order, with ETags. */
  listObjects(name: string, prefix = ''): { key: string; etag: string }[] {
    const out: { key: string; etag: string }[] = [];
    for (const [key, versions] of this.bucket(name).keys) {
      const latest = versions[0];
      if (latest && !latest.deleteMarker && key.startsWith(prefix)) out.push({ key, etag: latest.etag });
    }
    return out.sort((a, b) => utf8Compare(a.key, b.key));
  }

  /** ListObjectVersions without a delimiter: keys in UTF-8 order, each key's versions newest first. */
  listVersions(name: string, prefix = ''): ModelVersionEntry[] {
    const keys = [...this.bucket(name).keys.keys()].filter((k) => k.startsWith(prefix)).sort(utf8Compare);
    return keys.flatMap((key) =>
      this.versionsOf(name, key).map((v, i) => ({ key, versionId: v.versionId, isLatest: i === 0, deleteMarker: v.deleteMarker, etag: v.etag })),
    );
  }

  /**
   * ListObjectVersions as one ordered sequence: with a delimiter, keys holding it after the prefix
   * fold into one common-prefix item, placed where its first key would be; each item counts once
   * toward max-keys.
   */
  listVersionItems(name: string, prefix = '', delimiter = ''): ModelVersionItem[] {
    const out: ModelVersionItem[] = [];
    const seen = new Set<string>();
    for (const e of this.listVersions(name, prefix)) {
      const at = delimiter === '' ? -1 : e.key.indexOf(delimiter, prefix.length);
      if (at < 0) {
        out.push({ kind: 'version', entry: e });
        continue;
      }
      const cp = e.key.slice(0, at + delimiter.length);
      if (seen.has(cp)) continue;
      seen.add(cp);
      out.push({ kind: 'prefix', prefix: cp });
    }
    return out;
  }

  private expectIdForm(b: ModelBucket, versionId: string | undefined): string {
    if (b.versioning === 'Enabled') {
      if (versionId === undefined || versionId === nullVersion) throw new Error(`model: an enabled bucket must issue a version id, got ${String(versionId)}`);
      return versionId;
    }
    if (b.versioning === 'Suspended' && versionId !== nullVersion) throw new Error(`model: a suspended bucket issues "null", got ${String(versionId)}`);
    if (b.versioning === 'Unversioned' && versionId !== undefined) throw new Error(`model: an unversioned bucket sends no version id, got ${versionId}`);
    return nullVersion;
  }

  private pushNewest(b: ModelBucket, key: string, v: ModelVersion): void {
    const versions = (b.keys.get(key) ?? []).filter((x) => v.versionId !== nullVersion || x.versionId !== nullVersion);
    if (versions.some((x) => x.versionId === v.versionId)) throw new Error(`model: version id ${v.versionId} issued twice`);
    b.keys.set(key, [v, ...versions]);
  }

  private removeVersion(b: ModelBucket, key: string, versionId: string): ModelVersion | undefined {
    const versions = b.keys.get(key) ?? [];
    const gone = versions.find((x) => x.versionId === versionId);
    const rest = versions.filter((x) => x.versionId !== versionId);
    if (rest.length === 0) b.keys.delete(key);
    else b.keys.set(key, rest);
    return gone;
  }
}

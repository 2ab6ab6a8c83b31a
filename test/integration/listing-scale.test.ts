/**
 * Listing at scale: a 1,000,000-key bucket in a realistic hierarchy, built by driving events
 * straight through the log (not 1M HTTP PUTs), listed through the real gateway with the SDK.
 * The root delimiter listing walks 10,000 common prefixes in pages; flat pages from the middle,
 * a prefix listing and v1 markers are checked against the keys' known order.
 * STRATA_SCALE_KEYS overrides the size (a multiple of 100).
 */
import { CreateBucketCommand, ListObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../src/app/strata.ts';
import { bulkLoad, hierarchyKey } from '../support/bulk-load.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

const keys = Number(process.env['STRATA_SCALE_KEYS'] ?? 1_000_000);
const perUser = 100;
const users = keys / perUser;
const bucket = 'scale';

// hierarchyKey(i) is increasing in i (zero-padded numbers within each user, and each user's
// keys are grouped by year with the same 4-digit counter order), so the expected order is known:
// within a user, keys sort by (year, counter); across users, by user.
function sortedKeysOfUser(u: number): string[] {
  const out: string[] = [];
  for (let n = 0; n < perUser; n++) out.push(hierarchyKey(u * perUser + n, perUser));
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

describe(`listing a ${keys.toLocaleString('en')}-key bucket`, () => {
  let h: TestStrata;
  beforeAll(async () => {
    // A gateway without an embedded storage node: these objects have no shards, and the events
    // are then projected once (by the gateway), not twice (gateway and node liveness).
    h = await startTestStrata({ remoteNodes: ['scale-test-no-node'] });
    await h.client().send(new CreateBucketCommand({ Bucket: bucket }));
    const nc = await connectNats(h.strata.natsUrl, 'scale-load');
    const started = Date.now();
    const r = await bulkLoad(nc, bucket, keys, (i) => hierarchyKey(i, perUser));
    await nc.close();
    await h.strata.projector.waitApplied(r.lastSeq, 15 * 60_000);
    console.log(`loaded ${keys} keys through the log and projected them in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 20 * 60_000);
  afterAll(async () => h.stop());

  it(`delimiter listing at the root returns all ${users} common prefixes, in order, in pages of 1000`, async () => {
    const s3 = h.client();
    const prefixes: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: 1000, ContinuationToken: token }));
      pages++;
      expect(page.Contents ?? []).toEqual([]);
      expect(page.KeyCount).toBe((page.CommonPrefixes ?? []).length);
      prefixes.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(pages).toBe(Math.ceil(users / 1000));
    expect(prefixes.length).toBe(users);
    for (let u = 0; u < users; u++) expect(prefixes[u]).toBe(`user-${String(u).padStart(5, '0')}/`);
  });

  it('flat pages from the middle hold the next 1000 keys in UTF-8 order', async () => {
    const s3 = h.client();
    const u = Math.floor(users / 2);
    const startAfter = sortedKeysOfUser(u)[49] ?? '';
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: startAfter, MaxKeys: 1000 }));
    const expected: string[] = [];
    for (let v = u; expected.length < 1050 && v < users; v++) expected.push(...sortedKeysOfUser(v));
    const from = expected.indexOf(startAfter) + 1;
    expect(page.Contents?.map((c) => c.Key)).toEqual(expected.slice(from, from + 1000));
    expect(page.IsTruncated).toBe(true);
  });

  it('a prefix listing with a delimiter shows one user\'s years', async () => {
    const s3 = h.client();
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'user-00042/photos/', Delimiter: '/' }));
    expect(page.CommonPrefixes?.map((p) => p.Prefix)).toEqual(Array.from({ length: 10 }, (_, i) => `user-00042/photos/${2000 + i}/`));
  });

  it('ListObjects v1 pages with NextMarker across a user boundary', async () => {
    const s3 = h.client();
    const first = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: 'user-00007/', Delimiter: '/', MaxKeys: 3 }));
    expect(first.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['user-00008/', 'user-00009/', 'user-00010/']);
    expect(first.NextMarker).toBe('user-00010/');
    const second = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: first.NextMarker, Delimiter: '/', MaxKeys: 2 }));
    expect(second.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['user-00011/', 'user-00012/']);
  });
});

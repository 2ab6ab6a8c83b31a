/**
 * The AWS CLI v2 against Strata: the high-level `s3` commands (mb, cp both ways, ls, rm, rb) and
 * a few `s3api` calls, checked byte for byte and against what the SDK sees.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, requireAwsCliV2, type AwsCli } from '../support/aws-cli.ts';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';
import { expectS3Error } from '../support/s3-errors.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;
let aws: AwsCli;
let dir: string;
const bucket = 'cli-bucket';
const md5Hex = (b: Buffer): string => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  console.log(`using ${await requireAwsCliV2()}`);
  h = await startTestStrata();
  s3 = h.client();
  aws = awsCli(h.strata.endpoint);
  dir = mkdtempSync(join(tmpdir(), 'strata-cli-files-'));
});

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('aws s3', () => {
  const seed = testSeed('aws cli files');
  const rng = createRng(seed);
  const big = randomBuffer(rng, 3 * 1024 * 1024);
  const small = Buffer.from('small file from the AWS CLI\n');

  it('makes a bucket with `s3 mb`', async () => {
    expect(await aws.ok(['s3', 'mb', `s3://${bucket}`])).toContain(`make_bucket: ${bucket}`);
    expect((await s3.send(new HeadBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode).toBe(200);
    const again = await aws.run(['s3', 'mb', `s3://${bucket}`]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('BucketAlreadyOwnedByYou');
  });

  it('copies a 3 MiB file and a small one up with `s3 cp`, byte-identical', async () => {
    writeFileSync(join(dir, 'big.bin'), big);
    writeFileSync(join(dir, 'small.txt'), small);
    await aws.ok(['s3', 'cp', join(dir, 'big.bin'), `s3://${bucket}/dir/big.bin`]);
    await aws.ok(['s3', 'cp', join(dir, 'small.txt'), `s3://${bucket}/dir/sub/small file.txt`]);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/big.bin' }));
    const bytes = Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(bytes.equals(big)).toBe(true);
    expect(got.ETag).toBe(`"${md5Hex(big)}"`);
    const gotSmall = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/sub/small file.txt' }));
    expect(gotSmall.ContentType).toBe('text/plain');
    expect(await (gotSmall.Body as { transformToString(): Promise<string> }).transformToString()).toBe(small.toString());
  });

  it('copies both files down with `s3 cp`, byte-identical', async () => {
    await aws.ok(['s3', 'cp', `s3://${bucket}/dir/big.bin`, join(dir, 'big.down')]);
    await aws.ok(['s3', 'cp', `s3://${bucket}/dir/sub/small file.txt`, join(dir, 'small.down')]);
    expect(readFileSync(join(dir, 'big.down')).equals(big)).toBe(true);
    expect(readFileSync(join(dir, 'small.down')).equals(small)).toBe(true);
  });

  it('lists buckets, a bucket and a prefix with `s3 ls`', async () => {
    expect(await aws.ok(['s3', 'ls'])).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${bucket}$`, 'm'));
    const top = await aws.ok(['s3', 'ls', `s3://${bucket}`]);
    expect(top.trim().split('\n')).toEqual([expect.stringMatching(/^\s*PRE dir\/$/)]);
    const lines = (await aws.ok(['s3', 'ls', `s3://${bucket}/dir/`])).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\s*PRE sub\/$/);
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+${big.length} big\\.bin$`));
    const recursive = (await aws.ok(['s3', 'ls', '--recursive', `s3://${bucket}`])).trim().split('\n');
    expect(recursive.map((l) => l.replace(/^\S+ \S+\s+\d+ /, ''))).toEqual(['dir/big.bin', 'dir/sub/small file.txt']);
  });

  it('removes an object with `s3 rm`', async () => {
    expect(await aws.ok(['s3', 'rm', `s3://${bucket}/dir/big.bin`])).toContain(`delete: s3://${bucket}/dir/big.bin`);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/big.bin' })), 'NoSuchKey', 404);
  });

  it('refuses `s3 rb` on a bucket that is not empty, then removes it', async () => {
    const full = await aws.run(['s3', 'rb', `s3://${bucket}`]);
    expect(full.code).not.toBe(0);
    expect(full.stderr).toContain('BucketNotEmpty');
    await aws.ok(['s3', 'rm', '--recursive', `s3://${bucket}/`]);
    expect(await aws.ok(['s3', 'rb', `s3://${bucket}`])).toContain(`remove_bucket: ${bucket}`);
    await expectS3Error(s3.send(new HeadBucketCommand({ Bucket: bucket })), 'NotFound', 404);
  });
});

describe('aws s3api', () => {
  const b = 'cli-api-bucket';

  it('put-object, head-object and list-objects-v2', async () => {
    await aws.ok(['s3api', 'create-bucket', '--bucket', b]);
    const file = join(dir, 'api.txt');
    writeFileSync(file, 'via s3api');
    const put = JSON.parse(
      await aws.ok(['s3api', 'put-object', '--bucket', b, '--key', 'api/ü key+.txt', '--body', file, '--content-type', 'text/x-api', '--metadata', 'origin=cli,n=1']),
    ) as { ETag: string };
    expect(put.ETag).toBe(`"${md5Hex(Buffer.from('via s3api'))}"`);

    const head = JSON.parse(await aws.ok(['s3api', 'head-object', '--bucket', b, '--key', 'api/ü key+.txt'])) as {
      ContentLength: number;
      ContentType: string;
      ETag: string;
      Metadata: Record<string, string>;
    };
    expect(head).toMatchObject({ ContentLength: 9, ContentType: 'text/x-api', ETag: put.ETag, Metadata: { origin: 'cli', n: '1' } });

    for (const k of ['api/a', 'api/b/c', 'other']) {
      await aws.ok(['s3api', 'put-object', '--bucket', b, '--key', k, '--body', file]);
    }
    // --no-paginate: one raw answer (the CLI's own paging merges pages and drops KeyCount).
    const listed = JSON.parse(await aws.ok(['s3api', 'list-objects-v2', '--no-paginate', '--bucket', b, '--prefix', 'api/', '--delimiter', '/'])) as {
      Contents: { Key: string; Size: number }[];
      CommonPrefixes: { Prefix: string }[];
      KeyCount: number;
    };
    expect(listed.Contents.map((c) => c.Key)).toEqual(['api/a', 'api/ü key+.txt']);
    expect(listed.CommonPrefixes).toEqual([{ Prefix: 'api/b/' }]);
    expect(listed.KeyCount).toBe(3);

    // The CLI pages by itself with --page-size; every key comes back once, in order.
    const paged = JSON.parse(await aws.ok(['s3api', 'list-objects-v2', '--bucket', b, '--page-size', '1'])) as { Contents: { Key: string }[] };
    expect(paged.Contents.map((c) => c.Key)).toEqual(['api/a', 'api/b/c', 'api/ü key+.txt', 'other']);

    const missing = await aws.run(['s3api', 'head-object', '--bucket', b, '--key', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('404');
  });
});

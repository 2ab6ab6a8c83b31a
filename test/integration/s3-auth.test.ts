/**
 * Authentication end to end: presigned URLs used with plain fetch, header signatures from the SDK
 * and from @smithy/signature-v4 by hand, every way a signature can be wrong, virtual-host style
 * addressing, and malformed requests that must be answered without taking the process down.
 */
import { createHash } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import type { LookupFunction } from 'node:net';
import { connect } from 'node:net';
import {
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFetchError, expectS3Error } from '../support/s3-errors.ts';
import { sha256Hex, signedFetch, signHeaders } from '../support/signed-fetch.ts';
import { startTestStrata, testCredentials, type TestStrata } from '../support/strata.ts';

const bucket = 'auth-e2e';
let h: TestStrata;
let s3: S3Client;

async function getText(client: S3Client, key: string, b = bucket): Promise<string> {
  const r = await client.send(new GetObjectCommand({ Bucket: b, Key: key }));
  return (r.Body as { transformToString(): Promise<string> }).transformToString();
}

/** The server still serves a signed request: nothing above took the process or the listener down. */
async function expectServerAnswers(): Promise<void> {
  const r = await s3.send(new ListBucketsCommand({}));
  expect(r.Buckets?.map((b) => b.Name)).toContain(bucket);
}

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello, world' }));
});

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

describe('presigned URLs', () => {
  it('GETs an object with a presigned URL and plain fetch', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 300 });
    expect(url).toContain('X-Amz-Signature=');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello, world');
    expect(res.headers.get('etag')).toBe(`"${createHash('md5').update('hello, world').digest('hex')}"`);
  });

  it('PUTs an object with a presigned URL and plain fetch', async () => {
    const key = 'presigned/a b+c ü.txt';
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
    const res = await fetch(url, { method: 'PUT', body: 'uploaded by URL' });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${createHash('md5').update('uploaded by URL').digest('hex')}"`);
    expect(await getText(s3, key)).toBe('uploaded by URL');
  });

  it('refuses a presigned URL whose signature was tampered with: SignatureDoesNotMatch', async () => {
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 300 }));
    const sig = url.searchParams.get('X-Amz-Signature') ?? '';
    url.searchParams.set('X-Amz-Signature', `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`);
    await expectFetchError(await fetch(url), 'SignatureDoesNotMatch', 403);
  });

  it('refuses a presigned URL for another key than the one signed: SignatureDoesNotMatch', async () => {
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 300 }));
    url.pathname = url.pathname.replace('hello.txt', 'other.txt');
    await expectFetchError(await fetch(url), 'SignatureDoesNotMatch', 403);
  });

  it('refuses an expired presigned URL: AccessDenied', async () => {
    // Signed two hours ago for one hour: expired without waiting for anything.
    const signingDate = new Date(Date.now() - 2 * 3600_000);
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 3600, signingDate });
    const body = await expectFetchError(await fetch(url), 'AccessDenied', 403);
    expect(body).toContain('Request has expired');
  });
});

describe('header signatures', () => {
  it('refuses a request signed with the wrong secret: SignatureDoesNotMatch', async () => {
    const wrong = h.client({ secretAccessKey: 'not-the-secret' });
    await expectS3Error(wrong.send(new ListBucketsCommand({})), 'SignatureDoesNotMatch', 403);
    await expectS3Error(wrong.send(new PutObjectCommand({ Bucket: bucket, Key: 'wrong-secret', Body: 'x'.repeat(100_000) })), 'SignatureDoesNotMatch', 403);
    wrong.destroy();
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'wrong-secret' })), 'NoSuchKey', 404);
  });

  it('refuses an unknown access key: InvalidAccessKeyId', async () => {
    const unknown = new S3Client({
      endpoint: h.strata.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDNOBODYKNOWS', secretAccessKey: testCredentials.secretAccessKey },
    });
    await expectS3Error(unknown.send(new ListObjectsV2Command({ Bucket: bucket })), 'InvalidAccessKeyId', 403);
    unknown.destroy();
  });

  it('refuses a body that does not match its signed x-amz-content-sha256: XAmzContentSHA256Mismatch', async () => {
    const res = await signedFetch(h.strata.endpoint, {
      method: 'PUT',
      path: `/${bucket}/sha-mismatch`,
      body: 'the body actually sent',
      payloadHash: sha256Hex('the body that was signed'),
    });
    await expectFetchError(res, 'XAmzContentSHA256Mismatch', 400);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sha-mismatch' })), 'NoSuchKey', 404);
    // The same signer with a matching body is accepted: the refusal above was about the hash.
    const good = await signedFetch(h.strata.endpoint, { method: 'PUT', path: `/${bucket}/sha-match`, body: 'matching body' });
    expect(good.status, await good.clone().text()).toBe(200);
    expect(await getText(s3, 'sha-match')).toBe('matching body');
  });

  it('refuses an anonymous request: AccessDenied', async () => {
    await expectFetchError(await fetch(`${h.strata.endpoint}/${bucket}/hello.txt`), 'AccessDenied', 403);
    await expectFetchError(await fetch(`${h.strata.endpoint}/`), 'AccessDenied', 403);
    await expectFetchError(await fetch(`${h.strata.endpoint}/${bucket}/anon`, { method: 'PUT', body: 'anonymous' }), 'AccessDenied', 403);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'anon' })), 'NoSuchKey', 404);
  });

  it('refuses a request dated more than 15 minutes off: RequestTimeTooSkewed', async () => {
    for (const offsetMs of [-20 * 60_000, 20 * 60_000]) {
      const res = await signedFetch(h.strata.endpoint, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2' }, signingDate: new Date(Date.now() + offsetMs) });
      await expectFetchError(res, 'RequestTimeTooSkewed', 403);
    }
    // Within the window is fine.
    const ok = await signedFetch(h.strata.endpoint, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2' }, signingDate: new Date(Date.now() - 10 * 60_000) });
    expect(ok.status).toBe(200);
  });

  it('lets the SDK correct its clock from the Date of a RequestTimeTooSkewed answer', async () => {
    const skewed = new S3Client({
      endpoint: h.strata.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: testCredentials,
      systemClockOffset: -30 * 60_000,
    });
    // This SDK corrects its offset from the answer's Date header (or <ServerTime>) and retries
    // only when its own clock looks wrong; here the offset was configured wrong, so the first
    // call may fail, but it must fail with RequestTimeTooSkewed and leave the offset corrected.
    try {
      await skewed.send(new ListBucketsCommand({}));
    } catch (err) {
      expect((err as Error).name).toBe('RequestTimeTooSkewed');
    }
    expect(Math.abs(skewed.config.systemClockOffset)).toBeLessThan(60_000);
    const r = await skewed.send(new ListBucketsCommand({}));
    expect(r.$metadata.httpStatusCode).toBe(200);
    skewed.destroy();
  });
});

describe('virtual-host style', () => {
  it('serves bucket.localhost addressing from the SDK with forcePathStyle false', async () => {
    // getaddrinfo here may not resolve *.localhost (RFC 6761 says it is loopback); resolve it ourselves.
    const lookup: LookupFunction = (hostname, options, callback) => {
      const all = typeof options === 'object' && options.all === true;
      if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
        if (all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
        return;
      }
      callback(new Error(`unexpected lookup of ${hostname}`), '', 4);
    };
    const hosts: string[] = [];
    const port = new URL(h.strata.endpoint).port;
    const vhost = new S3Client({
      endpoint: `http://localhost:${port}`,
      region: 'us-east-1',
      forcePathStyle: false,
      credentials: testCredentials,
      requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, lookup }) }),
    });
    vhost.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { hostname?: string; path?: string };
        hosts.push(`${req.hostname ?? ''} ${req.path ?? ''}`);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordHost' },
    );
    const vb = 'vhost-bucket';
    await vhost.send(new CreateBucketCommand({ Bucket: vb }));
    await vhost.send(new PutObjectCommand({ Bucket: vb, Key: 'dir/key with space.txt', Body: 'virtual' }));
    expect(await getText(vhost, 'dir/key with space.txt', vb)).toBe('virtual');
    const listed = await vhost.send(new ListObjectsV2Command({ Bucket: vb }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['dir/key with space.txt']);
    expect(hosts.length).toBe(4);
    for (const line of hosts) expect(line.startsWith(`${vb}.localhost /`), line).toBe(true);
    expect(hosts.some((line) => line.includes(`/${vb}`))).toBe(false);
    // The same bucket, path style.
    expect(await getText(s3, 'dir/key with space.txt', vb)).toBe('virtual');
    vhost.destroy();
  });
});

describe('malformed requests', () => {
  it('answers a garbage Authorization header and keeps serving', async () => {
    for (const authorization of ['garbage', 'AWS4-HMAC-SHA256 garbage', 'AWS4-HMAC-SHA256 Credential=x, SignedHeaders=, Signature=zz', 'AWS AKID:c2lnbmF0dXJl']) {
      const res = await fetch(`${h.strata.endpoint}/${bucket}/hello.txt`, { headers: { authorization } });
      expect(res.status, authorization).toBeGreaterThanOrEqual(400);
      expect(res.status, authorization).toBeLessThan(500);
      expect(await res.text()).toMatch(/<Code>(InvalidArgument|AuthorizationHeaderMalformed|AccessDenied|InvalidRequest)<\/Code>/);
      expect(res.headers.get('x-amz-request-id')).toMatch(/^\S+$/);
    }
    await expectServerAnswers();
  });

  it('answers invalid XML to DeleteObjects with MalformedXML', async () => {
    const body = '<Delete><Object><Key>hello.txt</Key></Object';
    const res = await signedFetch(h.strata.endpoint, {
      method: 'POST',
      path: `/${bucket}`,
      query: { delete: '' },
      headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
      body,
    });
    await expectFetchError(res, 'MalformedXML', 400);
    expect(await getText(s3, 'hello.txt')).toBe('hello, world');
    await expectServerAnswers();
  });

  it('answers an unimplemented sub-resource with NotImplemented', async () => {
    await expectS3Error(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), 'NotImplemented', 501);
    await expectS3Error(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })), 'NotImplemented', 501);
    await expectServerAnswers();
  });

  it('answers a path with a broken percent escape with InvalidURI', async () => {
    const res = await signedFetch(h.strata.endpoint, { method: 'GET', path: `/${bucket}/bad%zzescape` });
    await expectFetchError(res, 'InvalidURI', 400);
    await expectServerAnswers();
  });

  it('survives a PUT whose client disappears mid-body, storing nothing', async () => {
    const { port } = new URL(h.strata.endpoint);
    // Declared 1 MiB, unsigned payload, then the connection is destroyed after 64 KiB.
    const signed = await signHeaders(h.strata.endpoint, { method: 'PUT', path: `/${bucket}/torn`, payloadHash: 'UNSIGNED-PAYLOAD' });
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: Number(port), method: 'PUT', path: `/${bucket}/torn`, headers: { ...signed, 'content-length': String(1024 * 1024) } });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(Buffer.alloc(64 * 1024, 1), () => req.destroy());
    });
    await expectServerAnswers();
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'torn' })), 'NoSuchKey', 404);
  });

  it('survives bytes that are not HTTP at all', async () => {
    const { port } = new URL(h.strata.endpoint);
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), '127.0.0.1');
      let got = '';
      sock.on('data', (b) => (got += b.toString('latin1')));
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
      sock.end(Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n', 'latin1'));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    await expectServerAnswers();
  });
});

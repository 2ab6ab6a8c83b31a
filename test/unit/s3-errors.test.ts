/** The one S3 error table: statuses as the AWS S3 API reference lists them, and sane messages. */
import { describe, expect, it } from 'vitest';
import { isS3ErrorCode, s3Error, s3ErrorTable } from '../../src/s3/errors.ts';
import { errorXml } from '../../src/s3/xml/responses.ts';

// From the "Error responses" page of the Amazon S3 API reference.
const documented: Record<string, number> = {
  AccessDenied: 403,
  BadDigest: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  ConditionalRequestConflict: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidURI: 400,
  KeyTooLongError: 400,
  MalformedXML: 400,
  MetadataTooLarge: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  MissingSecurityHeader: 400,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NoSuchVersion: 404,
  NotImplemented: 501,
  NotModified: 304,
  PreconditionFailed: 412,
  RequestTimeTooSkewed: 403,
  ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403,
  SlowDown: 503,
  XAmzContentSHA256Mismatch: 400,
};

describe('S3 error table', () => {
  it('gives every documented code its documented status', () => {
    for (const [code, status] of Object.entries(documented)) {
      expect(isS3ErrorCode(code), code).toBe(true);
      if (isS3ErrorCode(code)) expect(s3ErrorTable[code].status, code).toBe(status);
    }
  });

  it('has a message for every code, and only 3xx/4xx/5xx statuses', () => {
    for (const [code, e] of Object.entries(s3ErrorTable)) {
      expect(e.message.length, code).toBeGreaterThan(5);
      expect(e.status >= 300 && e.status < 600, code).toBe(true);
    }
  });

  it('renders an error as the XML AWS sends, with the request id and extra fields', () => {
    const xml = errorXml(s3Error('NoSuchKey', undefined, { Key: 'a&b' }), { requestId: 'RID1', resource: '/b/a&b' });
    expect(xml).toContain('<Code>NoSuchKey</Code>');
    expect(xml).toContain('<Key>a&amp;b</Key>');
    expect(xml).toContain('<RequestId>RID1</RequestId>');
    expect(xml.startsWith('<?xml')).toBe(true);
  });

  it('does not take unknown codes', () => {
    expect(isS3ErrorCode('NoSuchThing')).toBe(false);
  });
});

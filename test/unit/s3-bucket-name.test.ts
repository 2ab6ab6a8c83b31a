import { describe, expect, it } from 'vitest';
import { bucketNameProblem, validateBucketName } from '../../src/s3/bucket-name.ts';

describe('validateBucketName', () => {
  it.each([
    'abc',
    'a'.repeat(63),
    'my-bucket',
    'my.bucket.name',
    '0bucket9',
    'docexamplebucket1',
    'log-delivery-march-2020',
    'a.b-c',
    '1.2.3', // three numeric labels are not an IP address
    'xn-not-punycode',
    'sthree', // only the prefix with a hyphen is reserved
    'bucket-s3alias-not-suffix',
  ])('given %s when validated then it is accepted', (name) => {
    expect(validateBucketName(name)).toBeUndefined();
  });

  it.each([
    ['ab', 'characters long'],
    ['a'.repeat(64), 'characters long'],
    ['', 'characters long'],
    ['My-Bucket', 'lowercase'],
    ['my_bucket', 'lowercase'],
    ['my bucket', 'lowercase'],
    ['bücket', 'lowercase'],
    ['-bucket', 'begin and end'],
    ['bucket-', 'begin and end'],
    ['.bucket', 'begin and end'],
    ['bucket.', 'begin and end'],
    ['my..bucket', 'adjacent dots'],
    ['192.168.5.4', 'IP address'],
    ['xn--bucket', 'xn--'],
    ['sthree-bucket', 'sthree-'],
    ['sthree-configurator', 'sthree-'],
    ['amzn-s3-demo-bucket', 'amzn-s3-demo-'],
    ['bucket-s3alias', '-s3alias'],
    ['bucket--ol-s3', '--ol-s3'],
    ['bucket.mrap', '.mrap'],
    ['bucket--use1-az4--x-s3', '--x-s3'],
    ['bucket--table-s3', '--table-s3'],
  ])('given %s when validated then InvalidBucketName (%s)', (name, rule) => {
    const error = validateBucketName(name);
    expect(error?.code).toBe('InvalidBucketName');
    expect(error?.status).toBe(400);
    expect(error?.extra).toEqual({ BucketName: name });
    expect(bucketNameProblem(name)).toContain(rule);
  });
});

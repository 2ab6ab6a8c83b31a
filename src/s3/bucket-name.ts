/**
 * General purpose bucket naming rules, as the S3 user guide states them ("General purpose bucket
 * naming rules"). Only CreateBucket needs to check them: a name that breaks them cannot exist, so
 * other operations simply answer NoSuchBucket.
 */
import { s3Error, type S3Error } from './errors.ts';

const bucketNameCharsMin = 3;
const bucketNameCharsMax = 63;

/** Prefixes AWS reserves: punycode labels, S3's own internal names, documentation examples. */
const reservedPrefixes = ['xn--', 'sthree-', 'amzn-s3-demo-'] as const;

/** Suffixes AWS reserves for access point, Object Lambda, Multi-Region, directory and table buckets. */
const reservedSuffixes = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'] as const;

/** Undefined when `name` is a valid general purpose bucket name, else InvalidBucketName. */
export function validateBucketName(name: string): S3Error | undefined {
  return bucketNameProblem(name) === undefined
    ? undefined
    : s3Error('InvalidBucketName', undefined, { BucketName: name });
}

/** Which rule `name` breaks, in words (for logs and tests); undefined when it breaks none. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < bucketNameCharsMin || name.length > bucketNameCharsMax) {
    return `must be ${bucketNameCharsMin} to ${bucketNameCharsMax} characters long`;
  }
  if (!/^[a-z0-9.-]+$/.test(name)) return 'may contain only lowercase letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'must begin and end with a letter or digit';
  if (name.includes('..')) return 'must not contain two adjacent dots';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'must not be formatted as an IP address';
  const prefix = reservedPrefixes.find((reserved) => name.startsWith(reserved));
  if (prefix !== undefined) return `must not start with the reserved prefix ${prefix}`;
  const suffix = reservedSuffixes.find((reserved) => name.endsWith(reserved));
  if (suffix !== undefined) return `must not end with the reserved suffix ${suffix}`;
  return undefined;
}

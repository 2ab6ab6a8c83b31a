/** Every response builder's output, read back by fast-xml-parser (an independent reader). */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { s3Error } from '../../src/s3/errors.ts';
import {
  completeMultipartUploadXml,
  copyObjectResultXml,
  copyPartResultXml,
  deleteResultXml,
  errorXml,
  getObjectAttributesXml,
  initiateMultipartUploadXml,
  listAllMyBucketsXml,
  listMultipartUploadsXml,
  listObjectsV1Xml,
  listObjectsV2Xml,
  listObjectVersionsXml,
  listPartsXml,
  locationConstraintXml,
  versioningConfigurationXml,
  type ListedObject,
} from '../../src/s3/xml/responses.ts';
import { s3Xmlns, xmlProlog } from '../../src/s3/xml/write.ts';

/** Elements that repeat, by path, so that one occurrence still reads as a list. */
const repeatedPaths = new Set([
  'ListAllMyBucketsResult.Buckets.Bucket',
  'ListBucketResult.Contents',
  'ListBucketResult.Contents.ChecksumAlgorithm',
  'ListBucketResult.CommonPrefixes',
  'DeleteResult.Deleted',
  'DeleteResult.Error',
  'ListVersionsResult.Version',
  'ListVersionsResult.DeleteMarker',
  'ListVersionsResult.CommonPrefixes',
  'ListPartsResult.Part',
  'ListMultipartUploadsResult.Upload',
  'ListMultipartUploadsResult.CommonPrefixes',
  'GetObjectAttributesResponse.ObjectParts.Part',
]);
const reader = new XMLParser({
  htmlEntities: true,
  parseTagValue: false,
  trimValues: false,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  ignoreDeclaration: true,
  isArray: (_name, jPath) => repeatedPaths.has(String(jPath)),
});

/** Parses a builder's output, checking the prolog and well-formedness first. */
function parse(xml: string): Record<string, unknown> {
  expect(xml.startsWith(xmlProlog)).toBe(true);
  expect(XMLValidator.validate(xml)).toBe(true);
  return reader.parse(xml) as Record<string, unknown>;
}

const t0 = Date.UTC(2024, 2, 3, 4, 5, 6, 789);
const t0Iso = '2024-03-03T04:05:06.000Z';
const owner = { id: 'oid', displayName: 'owner' };

describe('errorXml', () => {
  it('given an S3Error with extra fields then Code, Message, extras, Resource, RequestId, HostId and no namespace', () => {
    const xml = errorXml(s3Error('NoSuchKey', undefined, { Key: 'a&b', Code: 'ignored' }), {
      requestId: 'R1', hostId: 'H1', resource: '/bkt/a&b',
    });
    expect(xml).toBe(
      `${xmlProlog}<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>` +
        '<Key>a&amp;b</Key><Resource>/bkt/a&amp;b</Resource><RequestId>R1</RequestId><HostId>H1</HostId></Error>',
    );
    expect(parse(xml)).toEqual({
      Error: { Code: 'NoSuchKey', Message: 'The specified key does not exist.', Key: 'a&b', Resource: '/bkt/a&b', RequestId: 'R1', HostId: 'H1' },
    });
  });

  it('given a custom message and no host id then only what is known is written', () => {
    const xml = errorXml(s3Error('InvalidArgument', 'bad <thing>'), { requestId: 'R2' });
    expect(parse(xml)).toEqual({ Error: { Code: 'InvalidArgument', Message: 'bad <thing>', RequestId: 'R2' } });
  });
});

describe('bucket bodies', () => {
  it('given buckets then ListAllMyBucketsResult in the S3 namespace', () => {
    const xml = listAllMyBucketsXml({
      owner,
      buckets: [{ name: 'b1', creationDateMs: t0, region: 'eu-west-1' }, { name: 'b2', creationDateMs: 0 }],
      prefix: 'b',
    });
    expect(parse(xml)).toEqual({
      ListAllMyBucketsResult: {
        '@xmlns': s3Xmlns,
        Owner: { ID: 'oid', DisplayName: 'owner' },
        Buckets: {
          Bucket: [
            { Name: 'b1', CreationDate: t0Iso, BucketRegion: 'eu-west-1' },
            { Name: 'b2', CreationDate: '1970-01-01T00:00:00.000Z' },
          ],
        },
        Prefix: 'b',
      },
    });
  });

  it('given no buckets then an empty Buckets element', () => {
    expect(listAllMyBucketsXml({ owner: { id: 'x' }, buckets: [] })).toContain('<Buckets></Buckets>');
  });

  it('given regions then LocationConstraint is empty for us-east-1 and none', () => {
    expect(locationConstraintXml('eu-west-1')).toBe(`${xmlProlog}<LocationConstraint xmlns="${s3Xmlns}">eu-west-1</LocationConstraint>`);
    expect(locationConstraintXml('us-east-1')).toBe(`${xmlProlog}<LocationConstraint xmlns="${s3Xmlns}"></LocationConstraint>`);
    expect(locationConstraintXml(undefined)).toBe(locationConstraintXml('us-east-1'));
  });

  it('given versioning states then VersioningConfiguration, empty when never versioned', () => {
    expect(parse(versioningConfigurationXml({ status: 'Enabled', mfaDelete: 'Disabled' }))).toEqual({
      VersioningConfiguration: { '@xmlns': s3Xmlns, Status: 'Enabled', MfaDelete: 'Disabled' },
    });
    expect(versioningConfigurationXml({})).toBe(`${xmlProlog}<VersioningConfiguration xmlns="${s3Xmlns}"></VersioningConfiguration>`);
  });
});

describe('deleteResultXml', () => {
  it('given deletions and errors then Deleted and Error entries in order', () => {
    const xml = deleteResultXml({
      deleted: [{ key: ' k ' }, { key: 'm', versionId: 'v', deleteMarker: true, deleteMarkerVersionId: 'dm' }],
      errors: [{ key: 'e', code: 'InternalError', message: 'oops' }],
    });
    expect(parse(xml)).toEqual({
      DeleteResult: {
        '@xmlns': s3Xmlns,
        Deleted: [{ Key: ' k ' }, { Key: 'm', VersionId: 'v', DeleteMarker: 'true', DeleteMarkerVersionId: 'dm' }],
        Error: [{ Key: 'e', Code: 'InternalError', Message: 'oops' }],
      },
    });
  });

  it('given quiet mode with nothing to report then an empty DeleteResult', () => {
    expect(deleteResultXml({ deleted: [], errors: [] })).toBe(`${xmlProlog}<DeleteResult xmlns="${s3Xmlns}"></DeleteResult>`);
  });
});

const objects: ListedObject[] = [
  { key: 'a b', lastModifiedMs: t0, etag: 'e1', size: 3, storageClass: 'STANDARD', owner },
  { key: 'c+d', lastModifiedMs: t0, etag: '"e2-2"', size: 0, storageClass: 'STANDARD', owner, checksumAlgorithms: ['CRC32C'], checksumType: 'FULL_OBJECT' },
];

describe('listObjectsV2Xml', () => {
  it('given a page then every V2 field and KeyCount counts keys and prefixes', () => {
    const xml = listObjectsV2Xml({
      bucket: 'bkt', prefix: '', delimiter: '/', maxKeys: 2, isTruncated: true,
      continuationToken: 'ct', nextContinuationToken: 'nct', startAfter: 'a',
      fetchOwner: false, contents: objects, commonPrefixes: ['p/'],
    });
    expect(parse(xml)).toEqual({
      ListBucketResult: {
        '@xmlns': s3Xmlns,
        Name: 'bkt', Prefix: '', ContinuationToken: 'ct', NextContinuationToken: 'nct', StartAfter: 'a',
        KeyCount: '3', MaxKeys: '2', Delimiter: '/', IsTruncated: 'true',
        Contents: [
          { Key: 'a b', LastModified: t0Iso, ETag: '"e1"', Size: '3', StorageClass: 'STANDARD' },
          { Key: 'c+d', LastModified: t0Iso, ETag: '"e2-2"', ChecksumAlgorithm: ['CRC32C'], ChecksumType: 'FULL_OBJECT', Size: '0', StorageClass: 'STANDARD' },
        ],
        CommonPrefixes: [{ Prefix: 'p/' }],
      },
    });
  });

  it('given fetch-owner then each entry carries its Owner', () => {
    const xml = listObjectsV2Xml({ bucket: 'b', prefix: '', maxKeys: 1, isTruncated: false, fetchOwner: true, contents: [objects[0]!], commonPrefixes: [] });
    expect(xml).toContain('<Owner><ID>oid</ID><DisplayName>owner</DisplayName></Owner>');
  });

  it('given encoding-type=url then keys, prefixes, delimiter and start-after are encoded, tokens are not', () => {
    const xml = listObjectsV2Xml({
      bucket: 'bkt', prefix: 'a b/', delimiter: ' ', maxKeys: 5, isTruncated: false, encodingType: 'url',
      startAfter: 'x+y', continuationToken: 'tok+/=', fetchOwner: false, contents: objects, commonPrefixes: ['a b/c d/'],
    });
    const result = parse(xml)['ListBucketResult'] as Record<string, unknown>;
    expect(result).toMatchObject({
      Prefix: 'a%20b/', Delimiter: '%20', StartAfter: 'x%2By', ContinuationToken: 'tok+/=', EncodingType: 'url',
      CommonPrefixes: [{ Prefix: 'a%20b/c%20d/' }],
    });
    expect((result['Contents'] as { Key: string }[]).map((c) => c.Key)).toEqual(['a%20b', 'c%2Bd']);
  });

  it('given an empty delimiter then no Delimiter element, as AWS omits it', () => {
    const xml = listObjectsV2Xml({ bucket: 'b', prefix: '', delimiter: '', maxKeys: 1, isTruncated: false, fetchOwner: false, contents: [], commonPrefixes: [] });
    expect(xml).not.toContain('Delimiter');
    expect(xml).toContain('<KeyCount>0</KeyCount>');
  });
});

describe('listObjectsV1Xml', () => {
  it('given a truncated delimited page then Marker, NextMarker and owners', () => {
    const xml = listObjectsV1Xml({
      bucket: 'bkt', prefix: 'p', marker: '', nextMarker: 'c+d', delimiter: '/', maxKeys: 2, isTruncated: true,
      contents: objects, commonPrefixes: [],
    });
    const result = parse(xml)['ListBucketResult'] as Record<string, unknown>;
    expect(result).toMatchObject({ Name: 'bkt', Prefix: 'p', Marker: '', NextMarker: 'c+d', MaxKeys: '2', Delimiter: '/', IsTruncated: 'true' });
    expect(result).not.toHaveProperty('KeyCount');
    expect((result['Contents'] as { Owner: unknown }[])[0]?.Owner).toEqual({ ID: 'oid', DisplayName: 'owner' });
  });

  it('given encoding-type=url then markers are encoded too', () => {
    const xml = listObjectsV1Xml({
      bucket: 'bkt', prefix: '', marker: 'm n', nextMarker: 'o p', maxKeys: 1, isTruncated: true, encodingType: 'url',
      contents: [], commonPrefixes: [],
    });
    expect(parse(xml)['ListBucketResult']).toMatchObject({ Marker: 'm%20n', NextMarker: 'o%20p', EncodingType: 'url' });
  });
});

describe('listObjectVersionsXml', () => {
  it('given versions and delete markers then they keep their interleaved order', () => {
    const xml = listObjectVersionsXml({
      bucket: 'bkt', prefix: '', keyMarker: '', versionIdMarker: '', nextKeyMarker: 'k', nextVersionIdMarker: 'v2',
      maxKeys: 3, isTruncated: true, commonPrefixes: ['d/'],
      entries: [
        { kind: 'delete-marker', key: 'k', versionId: 'v3', isLatest: true, lastModifiedMs: t0, owner },
        { kind: 'version', key: 'k', versionId: 'v2', isLatest: false, lastModifiedMs: t0, etag: 'e', size: 7, storageClass: 'STANDARD', owner },
        { kind: 'version', key: 'l', versionId: 'null', isLatest: true, lastModifiedMs: t0, etag: 'f', size: 1, storageClass: 'STANDARD' },
      ],
    });
    expect(xml.indexOf('<DeleteMarker>')).toBeLessThan(xml.indexOf('<Version>'));
    expect(parse(xml)).toEqual({
      ListVersionsResult: {
        '@xmlns': s3Xmlns,
        Name: 'bkt', Prefix: '', KeyMarker: '', VersionIdMarker: '', NextKeyMarker: 'k', NextVersionIdMarker: 'v2',
        MaxKeys: '3', IsTruncated: 'true',
        DeleteMarker: [{ Key: 'k', VersionId: 'v3', IsLatest: 'true', LastModified: t0Iso, Owner: { ID: 'oid', DisplayName: 'owner' } }],
        Version: [
          { Key: 'k', VersionId: 'v2', IsLatest: 'false', LastModified: t0Iso, ETag: '"e"', Size: '7', Owner: { ID: 'oid', DisplayName: 'owner' }, StorageClass: 'STANDARD' },
          { Key: 'l', VersionId: 'null', IsLatest: 'true', LastModified: t0Iso, ETag: '"f"', Size: '1', StorageClass: 'STANDARD' },
        ],
        CommonPrefixes: [{ Prefix: 'd/' }],
      },
    });
  });
});

describe('multipart bodies', () => {
  it('given an upload then InitiateMultipartUploadResult', () => {
    expect(parse(initiateMultipartUploadXml({ bucket: 'b', key: ' k&', uploadId: 'u1' }))).toEqual({
      InitiateMultipartUploadResult: { '@xmlns': s3Xmlns, Bucket: 'b', Key: ' k&', UploadId: 'u1' },
    });
  });

  it('given a completion then CompleteMultipartUploadResult with a quoted ETag and checksums', () => {
    const xml = completeMultipartUploadXml({
      location: 'http://localhost/b/k', bucket: 'b', key: 'k', etag: 'abc-2',
      checksums: { ChecksumCRC32: 'AAAAAA==' }, checksumType: 'COMPOSITE',
    });
    expect(parse(xml)).toEqual({
      CompleteMultipartUploadResult: {
        '@xmlns': s3Xmlns, Location: 'http://localhost/b/k', Bucket: 'b', Key: 'k', ETag: '"abc-2"',
        ChecksumCRC32: 'AAAAAA==', ChecksumType: 'COMPOSITE',
      },
    });
  });

  it('given parts then ListPartsResult with initiator, owner and markers', () => {
    const xml = listPartsXml({
      bucket: 'b', key: 'k', uploadId: 'u', partNumberMarker: 0, nextPartNumberMarker: 2, maxParts: 2, isTruncated: true,
      initiator: owner, owner, storageClass: 'STANDARD',
      parts: [
        { partNumber: 1, lastModifiedMs: t0, etag: 'p1', size: 5242880 },
        { partNumber: 2, lastModifiedMs: t0, etag: '"p2"', size: 10, checksums: { ChecksumSHA256: 'c2hh' } },
      ],
    });
    expect(parse(xml)).toEqual({
      ListPartsResult: {
        '@xmlns': s3Xmlns, Bucket: 'b', Key: 'k', UploadId: 'u',
        Initiator: { ID: 'oid', DisplayName: 'owner' }, Owner: { ID: 'oid', DisplayName: 'owner' }, StorageClass: 'STANDARD',
        PartNumberMarker: '0', NextPartNumberMarker: '2', MaxParts: '2', IsTruncated: 'true',
        Part: [
          { PartNumber: '1', LastModified: t0Iso, ETag: '"p1"', Size: '5242880' },
          { PartNumber: '2', LastModified: t0Iso, ETag: '"p2"', Size: '10', ChecksumSHA256: 'c2hh' },
        ],
      },
    });
  });

  it('given uploads then ListMultipartUploadsResult, url-encoded when asked', () => {
    const xml = listMultipartUploadsXml({
      bucket: 'b', keyMarker: '', uploadIdMarker: '', nextKeyMarker: 'a b', nextUploadIdMarker: 'u1',
      prefix: '', delimiter: '/', maxUploads: 1, isTruncated: true, encodingType: 'url',
      uploads: [{ key: 'a b', uploadId: 'u1', initiatedMs: t0, initiator: owner, owner, storageClass: 'STANDARD' }],
      commonPrefixes: ['x y/'],
    });
    expect(parse(xml)).toEqual({
      ListMultipartUploadsResult: {
        '@xmlns': s3Xmlns, Bucket: 'b', KeyMarker: '', UploadIdMarker: '', NextKeyMarker: 'a%20b', NextUploadIdMarker: 'u1',
        Prefix: '', Delimiter: '/', MaxUploads: '1', EncodingType: 'url', IsTruncated: 'true',
        Upload: [{
          Key: 'a%20b', UploadId: 'u1', Initiator: { ID: 'oid', DisplayName: 'owner' }, Owner: { ID: 'oid', DisplayName: 'owner' },
          StorageClass: 'STANDARD', Initiated: t0Iso,
        }],
        CommonPrefixes: [{ Prefix: 'x%20y/' }],
      },
    });
  });
});

describe('copy and attribute bodies', () => {
  it('given a copy then CopyObjectResult and CopyPartResult', () => {
    expect(parse(copyObjectResultXml({ etag: 'e', lastModifiedMs: t0, checksumType: 'FULL_OBJECT', checksums: { ChecksumCRC64NVME: 'x' } }))).toEqual({
      CopyObjectResult: { '@xmlns': s3Xmlns, LastModified: t0Iso, ETag: '"e"', ChecksumCRC64NVME: 'x', ChecksumType: 'FULL_OBJECT' },
    });
    expect(parse(copyPartResultXml({ etag: '"e"', lastModifiedMs: t0 }))).toEqual({
      CopyPartResult: { '@xmlns': s3Xmlns, LastModified: t0Iso, ETag: '"e"' },
    });
  });

  it('given attributes then GetObjectAttributesResponse with an unquoted ETag and PartsCount', () => {
    const xml = getObjectAttributesXml({
      etag: '"abc-3"', checksums: { ChecksumCRC32: 'c' }, checksumType: 'COMPOSITE',
      objectParts: { totalPartsCount: 3, partNumberMarker: 0, nextPartNumberMarker: 1, maxParts: 1, isTruncated: true, parts: [{ partNumber: 1, size: 5, checksums: { ChecksumCRC32: 'p' } }] },
      storageClass: 'STANDARD', objectSize: 15,
    });
    expect(parse(xml)).toEqual({
      GetObjectAttributesResponse: {
        '@xmlns': s3Xmlns, ETag: 'abc-3', Checksum: { ChecksumCRC32: 'c', ChecksumType: 'COMPOSITE' },
        ObjectParts: { PartsCount: '3', PartNumberMarker: '0', NextPartNumberMarker: '1', MaxParts: '1', IsTruncated: 'true', Part: [{ PartNumber: '1', Size: '5', ChecksumCRC32: 'p' }] },
        StorageClass: 'STANDARD', ObjectSize: '15',
      },
    });
  });

  it('given only some attributes then only those are written', () => {
    expect(getObjectAttributesXml({ objectSize: 0 })).toBe(
      `${xmlProlog}<GetObjectAttributesResponse xmlns="${s3Xmlns}"><ObjectSize>0</ObjectSize></GetObjectAttributesResponse>`,
    );
  });
});

/**
 * S3 response bodies. Each builder takes a plain typed input and returns the whole document with
 * its XML prolog; roots are in the S3 namespace except `<Error>`, which AWS writes without one.
 * Listings and multipart bodies live in their own files and are re-exported here, so the handlers
 * import every response body from this one module.
 */
import type { S3Error } from '../errors.ts';
import { formatIsoTimestamp } from '../http-dates.ts';
import { quoteEtag, s3Xmlns, XmlWriter } from './write.ts';
import { writeChecksums, writeOwner, type Checksums, type ChecksumType, type Owner } from './shared.ts';

export * from './list-responses.ts';
export * from './multipart-responses.ts';
export type { Checksums, ChecksumType, EncodingType, Owner } from './shared.ts';

export interface ErrorContext {
  readonly requestId: string;
  readonly hostId?: string | undefined;
  /** The bucket or object the request named, e.g. `/bucket/key`. */
  readonly resource?: string | undefined;
}

const errorCoreFields = new Set(['Code', 'Message', 'Resource', 'RequestId', 'HostId']);

/** `<Error>`: Code, Message, the error's extra fields (Key, BucketName, Condition, ...), Resource, RequestId, HostId. */
export function errorXml(error: S3Error, context: ErrorContext): string {
  const xml = new XmlWriter().open('Error').leaf('Code', error.code).leaf('Message', error.message);
  for (const [name, value] of Object.entries(error.extra)) {
    if (!errorCoreFields.has(name)) xml.leaf(name, value);
  }
  return xml
    .optionalLeaf('Resource', context.resource)
    .leaf('RequestId', context.requestId)
    .optionalLeaf('HostId', context.hostId)
    .close('Error')
    .done();
}

export interface BucketEntry {
  readonly name: string;
  readonly creationDateMs: number;
  readonly region?: string | undefined;
}

export interface ListBucketsInput {
  readonly owner: Owner;
  readonly buckets: readonly BucketEntry[];
  readonly continuationToken?: string | undefined;
  readonly prefix?: string | undefined;
}

export function listAllMyBucketsXml(input: ListBucketsInput): string {
  const xml = new XmlWriter().open('ListAllMyBucketsResult', { xmlns: s3Xmlns });
  writeOwner(xml, 'Owner', input.owner);
  xml.open('Buckets');
  for (const bucket of input.buckets) {
    xml
      .open('Bucket')
      .leaf('Name', bucket.name)
      .leaf('CreationDate', formatIsoTimestamp(bucket.creationDateMs))
      .optionalLeaf('BucketRegion', bucket.region)
      .close('Bucket');
  }
  xml.close('Buckets');
  return xml
    .optionalLeaf('ContinuationToken', input.continuationToken)
    .optionalLeaf('Prefix', input.prefix)
    .close('ListAllMyBucketsResult')
    .done();
}

/** GetBucketLocation: AWS answers an empty element for us-east-1 (and for no region at all). */
export function locationConstraintXml(region: string | undefined): string {
  const xml = new XmlWriter().open('LocationConstraint', { xmlns: s3Xmlns });
  if (region !== undefined && region !== 'us-east-1') xml.text(region);
  return xml.close('LocationConstraint').done();
}

export interface VersioningInput {
  /** Undefined for a bucket that was never versioned: AWS then answers an empty element. */
  readonly status?: 'Enabled' | 'Suspended' | undefined;
  readonly mfaDelete?: 'Enabled' | 'Disabled' | undefined;
}

export function versioningConfigurationXml(input: VersioningInput): string {
  return new XmlWriter()
    .open('VersioningConfiguration', { xmlns: s3Xmlns })
    .optionalLeaf('Status', input.status)
    .optionalLeaf('MfaDelete', input.mfaDelete)
    .close('VersioningConfiguration')
    .done();
}

export interface DeletedEntry {
  readonly key: string;
  readonly versionId?: string | undefined;
  readonly deleteMarker?: boolean | undefined;
  readonly deleteMarkerVersionId?: string | undefined;
}

export interface DeleteErrorEntry {
  readonly key: string;
  readonly versionId?: string | undefined;
  readonly code: string;
  readonly message: string;
}

export interface DeleteResultInput {
  /** Empty in quiet mode, where S3 reports only the errors. */
  readonly deleted: readonly DeletedEntry[];
  readonly errors: readonly DeleteErrorEntry[];
}

export function deleteResultXml(input: DeleteResultInput): string {
  const xml = new XmlWriter().open('DeleteResult', { xmlns: s3Xmlns });
  for (const entry of input.deleted) {
    xml
      .open('Deleted')
      .leaf('Key', entry.key)
      .optionalLeaf('VersionId', entry.versionId)
      .optionalLeaf('DeleteMarker', entry.deleteMarker)
      .optionalLeaf('DeleteMarkerVersionId', entry.deleteMarkerVersionId)
      .close('Deleted');
  }
  for (const entry of input.errors) {
    xml
      .open('Error')
      .leaf('Key', entry.key)
      .optionalLeaf('VersionId', entry.versionId)
      .leaf('Code', entry.code)
      .leaf('Message', entry.message)
      .close('Error');
  }
  return xml.close('DeleteResult').done();
}

export interface CopyResultInput {
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly checksums?: Checksums | undefined;
  readonly checksumType?: ChecksumType | undefined;
}

export function copyObjectResultXml(input: CopyResultInput): string {
  return copyResult('CopyObjectResult', input, true);
}

/** UploadPartCopy; a part has no checksum type of its own. */
export function copyPartResultXml(input: Omit<CopyResultInput, 'checksumType'>): string {
  return copyResult('CopyPartResult', input, false);
}

function copyResult(root: string, input: CopyResultInput, withType: boolean): string {
  const xml = new XmlWriter()
    .open(root, { xmlns: s3Xmlns })
    .leaf('LastModified', formatIsoTimestamp(input.lastModifiedMs))
    .leaf('ETag', quoteEtag(input.etag));
  writeChecksums(xml, input.checksums);
  if (withType) xml.optionalLeaf('ChecksumType', input.checksumType);
  return xml.close(root).done();
}

export interface ObjectAttributesPart {
  readonly partNumber: number;
  readonly size: number;
  readonly checksums?: Checksums | undefined;
}

export interface ObjectAttributesParts {
  readonly totalPartsCount: number;
  readonly partNumberMarker?: number | undefined;
  readonly nextPartNumberMarker?: number | undefined;
  readonly maxParts?: number | undefined;
  readonly isTruncated?: boolean | undefined;
  /** S3 lists parts only for objects uploaded with checksums. */
  readonly parts?: readonly ObjectAttributesPart[] | undefined;
}

/** Only the attributes the request asked for (x-amz-object-attributes) are given. */
export interface ObjectAttributesInput {
  readonly etag?: string | undefined;
  readonly checksums?: Checksums | undefined;
  readonly checksumType?: ChecksumType | undefined;
  readonly objectParts?: ObjectAttributesParts | undefined;
  readonly storageClass?: string | undefined;
  readonly objectSize?: number | undefined;
}

/**
 * GetObjectAttributes. Two AWS quirks the SDK depends on: the ETag here is NOT quoted, and the
 * parts count is the element `PartsCount` (the API docs call it TotalPartsCount).
 */
export function getObjectAttributesXml(input: ObjectAttributesInput): string {
  const xml = new XmlWriter().open('GetObjectAttributesResponse', { xmlns: s3Xmlns });
  if (input.etag !== undefined) xml.leaf('ETag', input.etag.replace(/^"(.*)"$/s, '$1'));
  if (input.checksums !== undefined || input.checksumType !== undefined) {
    xml.open('Checksum');
    writeChecksums(xml, input.checksums);
    xml.optionalLeaf('ChecksumType', input.checksumType).close('Checksum');
  }
  const parts = input.objectParts;
  if (parts !== undefined) {
    xml
      .open('ObjectParts')
      .leaf('PartsCount', parts.totalPartsCount)
      .optionalLeaf('PartNumberMarker', parts.partNumberMarker)
      .optionalLeaf('NextPartNumberMarker', parts.nextPartNumberMarker)
      .optionalLeaf('MaxParts', parts.maxParts)
      .optionalLeaf('IsTruncated', parts.isTruncated);
    for (const part of parts.parts ?? []) {
      xml.open('Part').leaf('PartNumber', part.partNumber).leaf('Size', part.size);
      writeChecksums(xml, part.checksums);
      xml.close('Part');
    }
    xml.close('ObjectParts');
  }
  return xml
    .optionalLeaf('StorageClass', input.storageClass)
    .optionalLeaf('ObjectSize', input.objectSize)
    .close('GetObjectAttributesResponse')
    .done();
}

/**
 * Multipart upload bodies: InitiateMultipartUploadResult, CompleteMultipartUploadResult,
 * ListPartsResult and ListMultipartUploadsResult.
 */
import { formatIsoTimestamp } from '../http-dates.ts';
import { quoteEtag, s3Xmlns, XmlWriter } from './write.ts';
import {
  listingText,
  optionalListingText,
  writeChecksums,
  writeOwner,
  type Checksums,
  type ChecksumType,
  type EncodingType,
  type Owner,
} from './shared.ts';

export interface InitiateMultipartUploadInput {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
}

export function initiateMultipartUploadXml(input: InitiateMultipartUploadInput): string {
  return new XmlWriter()
    .open('InitiateMultipartUploadResult', { xmlns: s3Xmlns })
    .leaf('Bucket', input.bucket)
    .leaf('Key', input.key)
    .leaf('UploadId', input.uploadId)
    .close('InitiateMultipartUploadResult')
    .done();
}

export interface CompleteMultipartUploadInput {
  /** The object's URL, e.g. `http://localhost:9000/bucket/key` with the key url-encoded. */
  readonly location: string;
  readonly bucket: string;
  readonly key: string;
  /** The multipart ETag (`<md5 of part md5s>-<parts>`), quoted or not; written quoted. */
  readonly etag: string;
  readonly checksums?: Checksums | undefined;
  readonly checksumType?: ChecksumType | undefined;
}

export function completeMultipartUploadXml(input: CompleteMultipartUploadInput): string {
  const xml = new XmlWriter()
    .open('CompleteMultipartUploadResult', { xmlns: s3Xmlns })
    .leaf('Location', input.location)
    .leaf('Bucket', input.bucket)
    .leaf('Key', input.key)
    .leaf('ETag', quoteEtag(input.etag));
  writeChecksums(xml, input.checksums);
  return xml.optionalLeaf('ChecksumType', input.checksumType).close('CompleteMultipartUploadResult').done();
}

export interface ListedPart {
  readonly partNumber: number;
  readonly lastModifiedMs: number;
  readonly etag: string;
  readonly size: number;
  readonly checksums?: Checksums | undefined;
}

export interface ListPartsInput {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** The request's part-number-marker, 0 when none. */
  readonly partNumberMarker: number;
  readonly nextPartNumberMarker?: number | undefined;
  readonly maxParts: number;
  readonly isTruncated: boolean;
  readonly parts: readonly ListedPart[];
  readonly initiator: Owner;
  readonly owner: Owner;
  readonly storageClass: string;
  readonly checksumAlgorithm?: string | undefined;
  readonly checksumType?: ChecksumType | undefined;
}

export function listPartsXml(input: ListPartsInput): string {
  const xml = new XmlWriter()
    .open('ListPartsResult', { xmlns: s3Xmlns })
    .leaf('Bucket', input.bucket)
    .leaf('Key', input.key)
    .leaf('UploadId', input.uploadId);
  writeOwner(xml, 'Initiator', input.initiator);
  writeOwner(xml, 'Owner', input.owner);
  xml
    .leaf('StorageClass', input.storageClass)
    .leaf('PartNumberMarker', input.partNumberMarker)
    .optionalLeaf('NextPartNumberMarker', input.nextPartNumberMarker)
    .leaf('MaxParts', input.maxParts)
    .leaf('IsTruncated', input.isTruncated)
    .optionalLeaf('ChecksumAlgorithm', input.checksumAlgorithm)
    .optionalLeaf('ChecksumType', input.checksumType);
  for (const part of input.parts) {
    xml
      .open('Part')
      .leaf('PartNumber', part.partNumber)
      .leaf('LastModified', formatIsoTimestamp(part.lastModifiedMs))
      .leaf('ETag', quoteEtag(part.etag))
      .leaf('Size', part.size);
    writeChecksums(xml, part.checksums);
    xml.close('Part');
  }
  return xml.close('ListPartsResult').done();
}

export interface ListedUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly initiatedMs: number;
  readonly initiator: Owner;
  readonly owner: Owner;
  readonly storageClass: string;
  readonly checksumAlgorithm?: string | undefined;
  readonly checksumType?: ChecksumType | undefined;
}

export interface ListMultipartUploadsInput {
  readonly bucket: string;
  /** The request's key-marker and upload-id-marker, '' when none. */
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
  readonly nextKeyMarker?: string | undefined;
  readonly nextUploadIdMarker?: string | undefined;
  readonly prefix: string;
  readonly delimiter?: string | undefined;
  readonly maxUploads: number;
  readonly isTruncated: boolean;
  readonly encodingType?: EncodingType | undefined;
  readonly uploads: readonly ListedUpload[];
  readonly commonPrefixes: readonly string[];
}

export function listMultipartUploadsXml(input: ListMultipartUploadsInput): string {
  const enc = input.encodingType;
  const xml = new XmlWriter()
    .open('ListMultipartUploadsResult', { xmlns: s3Xmlns })
    .leaf('Bucket', input.bucket)
    .leaf('KeyMarker', listingText(input.keyMarker, enc))
    .leaf('UploadIdMarker', input.uploadIdMarker)
    .optionalLeaf('NextKeyMarker', optionalListingText(input.nextKeyMarker, enc))
    .optionalLeaf('NextUploadIdMarker', input.nextUploadIdMarker)
    .leaf('Prefix', listingText(input.prefix, enc));
  if (input.delimiter !== undefined && input.delimiter !== '') xml.leaf('Delimiter', listingText(input.delimiter, enc));
  xml
    .leaf('MaxUploads', input.maxUploads)
    .optionalLeaf('EncodingType', enc)
    .leaf('IsTruncated', input.isTruncated);
  for (const upload of input.uploads) {
    xml.open('Upload').leaf('Key', listingText(upload.key, enc)).leaf('UploadId', upload.uploadId);
    writeOwner(xml, 'Initiator', upload.initiator);
    writeOwner(xml, 'Owner', upload.owner);
    xml
      .leaf('StorageClass', upload.storageClass)
      .leaf('Initiated', formatIsoTimestamp(upload.initiatedMs))
      .optionalLeaf('ChecksumAlgorithm', upload.checksumAlgorithm)
      .optionalLeaf('ChecksumType', upload.checksumType)
      .close('Upload');
  }
  for (const prefix of input.commonPrefixes) {
    xml.open('CommonPrefixes').leaf('Prefix', listingText(prefix, enc)).close('CommonPrefixes');
  }
  return xml.close('ListMultipartUploadsResult').done();
}

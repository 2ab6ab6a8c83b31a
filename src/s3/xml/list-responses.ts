/**
 * Listing bodies: ListObjectsV2 and ListObjects (both `<ListBucketResult>`) and ListObjectVersions
 * (`<ListVersionsResult>`). With `encoding-type=url` the keys, prefixes, delimiter and the
 * key markers are url-encoded (see s3UrlEncode); continuation tokens and version ids never are.
 * An empty delimiter is not written, as AWS omits it.
 */
import { formatIsoTimestamp } from '../http-dates.ts';
import { assert } from '../../lib/assert.ts';
import { escapeXml, isQuotedEtag, quoteEtag, s3Xmlns, XmlWriter } from './write.ts';
import {
  listingText,
  optionalListingText,
  writeOwner,
  type ChecksumType,
  type EncodingType,
  type Owner,
} from './shared.ts';

export interface ListedObject {
  readonly key: string;
  readonly lastModifiedMs: number;
  /** Quoted or not; written quoted. */
  readonly etag: string;
  readonly size: number;
  readonly storageClass: string;
  readonly owner?: Owner | undefined;
  readonly checksumAlgorithms?: readonly string[] | undefined;
  readonly checksumType?: ChecksumType | undefined;
}

interface ListingCommon {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter?: string | undefined;
  readonly maxKeys: number;
  readonly isTruncated: boolean;
  readonly encodingType?: EncodingType | undefined;
  readonly commonPrefixes: readonly string[];
}

export interface ListObjectsV2Input extends ListingCommon {
  readonly continuationToken?: string | undefined;
  readonly nextContinuationToken?: string | undefined;
  readonly startAfter?: string | undefined;
  /** fetch-owner=true: only then are the entries' owners written. */
  readonly fetchOwner: boolean;
  readonly contents: readonly ListedObject[];
}

export function listObjectsV2Xml(input: ListObjectsV2Input): string {
  const enc = input.encodingType;
  const xml = new XmlWriter()
    .open('ListBucketResult', { xmlns: s3Xmlns })
    .leaf('Name', input.bucket)
    .leaf('Prefix', listingText(input.prefix, enc))
    .optionalLeaf('ContinuationToken', input.continuationToken)
    .optionalLeaf('NextContinuationToken', input.nextContinuationToken)
    .optionalLeaf('StartAfter', optionalListingText(input.startAfter, enc))
    .leaf('KeyCount', input.contents.length + input.commonPrefixes.length)
    .leaf('MaxKeys', input.maxKeys);
  writeDelimiterAndEncoding(xml, input);
  xml.leaf('IsTruncated', input.isTruncated);
  for (const entry of input.contents) writeListedObject(xml, entry, enc, input.fetchOwner);
  writeCommonPrefixes(xml, input.commonPrefixes, enc);
  return xml.close('ListBucketResult').done();
}

export interface ListObjectsV1Input extends ListingCommon {
  /** The request's marker, '' when none (AWS always writes the element). */
  readonly marker: string;
  /** S3 writes NextMarker only for truncated listings that use a delimiter. */
  readonly nextMarker?: string | undefined;
  readonly contents: readonly ListedObject[];
}

/** ListObjects (v1): entries carry their owner whenever one is given. */
export function listObjectsV1Xml(input: ListObjectsV1Input): string {
  const enc = input.encodingType;
  const xml = new XmlWriter()
    .open('ListBucketResult', { xmlns: s3Xmlns })
    .leaf('Name', input.bucket)
    .leaf('Prefix', listingText(input.prefix, enc))
    .leaf('Marker', listingText(input.marker, enc))
    .optionalLeaf('NextMarker', optionalListingText(input.nextMarker, enc))
    .leaf('MaxKeys', input.maxKeys);
  writeDelimiterAndEncoding(xml, input);
  xml.leaf('IsTruncated', input.isTruncated);
  for (const entry of input.contents) writeListedObject(xml, entry, enc, true);
  writeCommonPrefixes(xml, input.commonPrefixes, enc);
  return xml.close('ListBucketResult').done();
}

interface VersionEntryCommon {
  readonly key: string;
  /** 'null' for versions written while versioning was off or suspended. */
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly lastModifiedMs: number;
  readonly owner?: Owner | undefined;
}

export interface ListedVersion extends VersionEntryCommon {
  readonly kind: 'version';
  readonly etag: string;
  readonly size: number;
  readonly storageClass: string;
  readonly checksumAlgorithms?: readonly string[] | undefined;
  readonly checksumType?: ChecksumType | undefined;
}

export interface ListedDeleteMarker extends VersionEntryCommon {
  readonly kind: 'delete-marker';
}

export interface ListObjectVersionsInput extends ListingCommon {
  readonly keyMarker: string;
  readonly versionIdMarker: string;
  readonly nextKeyMarker?: string | undefined;
  readonly nextVersionIdMarker?: string | undefined;
  /** Versions and delete markers interleaved in listing order (key, then newest first). */
  readonly entries: readonly (ListedVersion | ListedDeleteMarker)[];
}

export function listObjectVersionsXml(input: ListObjectVersionsInput): string {
  const enc = input.encodingType;
  const xml = new XmlWriter()
    .open('ListVersionsResult', { xmlns: s3Xmlns })
    .leaf('Name', input.bucket)
    .leaf('Prefix', listingText(input.prefix, enc))
    .leaf('KeyMarker', listingText(input.keyMarker, enc))
    .leaf('VersionIdMarker', input.versionIdMarker)
    .optionalLeaf('NextKeyMarker', optionalListingText(input.nextKeyMarker, enc))
    .optionalLeaf('NextVersionIdMarker', input.nextVersionIdMarker)
    .leaf('MaxKeys', input.maxKeys);
  writeDelimiterAndEncoding(xml, input);
  xml.leaf('IsTruncated', input.isTruncated);
  for (const entry of input.entries) {
    if (entry.kind === 'version') {
      xml
        .open('Version')
        .leaf('Key', listingText(entry.key, enc))
        .leaf('VersionId', entry.versionId)
        .leaf('IsLatest', entry.isLatest)
        .leaf('LastModified', formatIsoTimestamp(entry.lastModifiedMs))
        .leaf('ETag', quoteEtag(entry.etag));
      writeChecksumAlgorithms(xml, entry.checksumAlgorithms, entry.checksumType);
      xml.leaf('Size', entry.size);
      if (entry.owner !== undefined) writeOwner(xml, 'Owner', entry.owner);
      xml.leaf('StorageClass', entry.storageClass).close('Version');
    } else {
      xml
        .open('DeleteMarker')
        .leaf('Key', listingText(entry.key, enc))
        .leaf('VersionId', entry.versionId)
        .leaf('IsLatest', entry.isLatest)
        .leaf('LastModified', formatIsoTimestamp(entry.lastModifiedMs));
      if (entry.owner !== undefined) writeOwner(xml, 'Owner', entry.owner);
      xml.close('DeleteMarker');
    }
  }
  writeCommonPrefixes(xml, input.commonPrefixes, enc);
  return xml.close('ListVersionsResult').done();
}

function writeDelimiterAndEncoding(xml: XmlWriter, input: ListingCommon): void {
  if (input.delimiter !== undefined && input.delimiter !== '') {
    xml.leaf('Delimiter', listingText(input.delimiter, input.encodingType));
  }
  xml.optionalLeaf('EncodingType', input.encodingType);
}

/**
 * One `<Contents>` as a single string: a page holds up to a thousand, and building each from a
 * template is several times cheaper than element-by-element writes. Same elements, same order as
 * the writer would give (s3-xml-responses tests check the documents).
 */
function writeListedObject(xml: XmlWriter, entry: ListedObject, enc: EncodingType | undefined, withOwner: boolean): void {
  let checksums = '';
  for (const algorithm of entry.checksumAlgorithms ?? []) checksums += `<ChecksumAlgorithm>${escapeXml(algorithm)}</ChecksumAlgorithm>`;
  if (entry.checksumType !== undefined) checksums += `<ChecksumType>${entry.checksumType}</ChecksumType>`;
  let owner = '';
  if (withOwner && entry.owner !== undefined) {
    const name = entry.owner.displayName === undefined ? '' : `<DisplayName>${escapeXml(entry.owner.displayName)}</DisplayName>`;
    owner = `<Owner><ID>${escapeXml(entry.owner.id)}</ID>${name}</Owner>`;
  }
  assert(Number.isFinite(entry.size), 'listed size');
  xml.fragment(
    `<Contents><Key>${escapeXml(listingText(entry.key, enc))}</Key>` +
      `<LastModified>${formatIsoTimestamp(entry.lastModifiedMs)}</LastModified>` +
      `<ETag>${etagText(entry.etag)}</ETag>${checksums}<Size>${entry.size}</Size>${owner}` +
      `<StorageClass>${storageClassText(entry.storageClass)}</StorageClass></Contents>`,
  );
}

/**
 * escapeXml(quoteEtag(etag)) without building the quoted string first (escaping a concatenation
 * flattens it): the quotes S3 adds are written as `&quot;`, as escapeXml would.
 */
function etagText(etag: string): string {
  return isQuotedEtag(etag) ? escapeXml(etag) : `&quot;${escapeXml(etag)}&quot;`;
}

/** A page's entries share one or two storage classes: the last one's escaped text is kept. */
function storageClassText(storageClass: string): string {
  if (storageClass !== lastStorageClass) {
    lastStorageClassText = escapeXml(storageClass);
    lastStorageClass = storageClass;
  }
  return lastStorageClassText;
}
let lastStorageClass = '';
let lastStorageClassText = '';

function writeChecksumAlgorithms(
  xml: XmlWriter,
  algorithms: readonly string[] | undefined,
  checksumType: ChecksumType | undefined,
): void {
  for (const algorithm of algorithms ?? []) xml.leaf('ChecksumAlgorithm', algorithm);
  xml.optionalLeaf('ChecksumType', checksumType);
}

function writeCommonPrefixes(xml: XmlWriter, prefixes: readonly string[], enc: EncodingType | undefined): void {
  for (const prefix of prefixes) {
    xml.fragment(`<CommonPrefixes><Prefix>${escapeXml(listingText(prefix, enc))}</Prefix></CommonPrefixes>`);
  }
}

/**
 * S3 request bodies: CreateBucketConfiguration, Delete, VersioningConfiguration and
 * CompleteMultipartUpload. Each parser returns the parsed body or throws S3Error MalformedXML, as
 * AWS answers for a body that is not well-formed or does not fit the schema (the handlers turn a
 * thrown S3Error into the response). Keys and ETags are kept exactly as sent, leading and
 * trailing spaces included; booleans, numbers and enumerations are read after trimming. Unknown
 * elements are ignored. The gateway caps the body at limits.xmlBodyBytesMax before it gets here.
 */
import { limits } from '../../lib/limits.ts';
import { checksumElementNames, type Checksums } from './shared.ts';
import { childrenNamed, malformedXml, optionalChild, readXmlDocument, requiredChild, type XmlElement } from './read.ts';

export interface CreateBucketConfiguration {
  /** Undefined for an empty body or an empty element (both mean us-east-1). */
  readonly locationConstraint: string | undefined;
}

/** CreateBucket's optional body: an empty body is allowed. */
export function parseCreateBucketConfiguration(body: string | Uint8Array): CreateBucketConfiguration {
  if (isBlank(body)) return { locationConstraint: undefined };
  const root = rootNamed(body, 'CreateBucketConfiguration');
  const location = optionalChild(root, 'LocationConstraint')?.text.trim();
  return { locationConstraint: location === '' ? undefined : location };
}

export interface DeleteObjectIdentifier {
  readonly key: string;
  readonly versionId?: string | undefined;
  /** Conditional delete fields: delete only if the object still has them. */
  readonly etag?: string | undefined;
  readonly lastModifiedTime?: string | undefined;
  readonly size?: number | undefined;
}

export interface DeleteRequest {
  readonly quiet: boolean;
  readonly objects: readonly DeleteObjectIdentifier[];
}

/** DeleteObjects' `<Delete>`: 1 to limits.deleteObjectsKeysMax objects, each with exactly one Key. */
export function parseDeleteRequest(body: string | Uint8Array): DeleteRequest {
  const root = rootNamed(body, 'Delete');
  const quietElement = optionalChild(root, 'Quiet');
  const quiet = quietElement === undefined ? false : xsdBoolean(quietElement.text);
  const objectElements = childrenNamed(root, 'Object');
  if (objectElements.length === 0 || objectElements.length > limits.deleteObjectsKeysMax) throw malformedXml();
  const objects = objectElements.map((element): DeleteObjectIdentifier => {
    const size = optionalChild(element, 'Size');
    return {
      key: requiredChild(element, 'Key').text,
      versionId: optionalChild(element, 'VersionId')?.text,
      etag: optionalChild(element, 'ETag')?.text,
      lastModifiedTime: optionalChild(element, 'LastModifiedTime')?.text.trim(),
      size: size === undefined ? undefined : unsignedInteger(size.text),
    };
  });
  return { quiet, objects };
}

export interface VersioningConfigurationRequest {
  readonly status: 'Enabled' | 'Suspended' | undefined;
  readonly mfaDelete: 'Enabled' | 'Disabled' | undefined;
}

export function parseVersioningConfiguration(body: string | Uint8Array): VersioningConfigurationRequest {
  const root = rootNamed(body, 'VersioningConfiguration');
  return {
    status: enumeration(optionalChild(root, 'Status'), ['Enabled', 'Suspended']),
    mfaDelete: enumeration(optionalChild(root, 'MfaDelete'), ['Enabled', 'Disabled']),
  };
}

export interface CompletedPart {
  /** As sent; the handler checks it lies in 1..limits.multipartPartsMax and that parts ascend. */
  readonly partNumber: number;
  /** As sent, usually quoted; compare with normalizeEtag. */
  readonly etag: string;
  readonly checksums: Checksums;
}

export interface CompleteMultipartUploadRequest {
  readonly parts: readonly CompletedPart[];
}

/** CompleteMultipartUpload: 1 to limits.multipartPartsMax parts, each with a PartNumber and an ETag. */
export function parseCompleteMultipartUpload(body: string | Uint8Array): CompleteMultipartUploadRequest {
  const root = rootNamed(body, 'CompleteMultipartUpload');
  const partElements = childrenNamed(root, 'Part');
  if (partElements.length === 0 || partElements.length > limits.multipartPartsMax) throw malformedXml();
  const parts = partElements.map((element): CompletedPart => {
    const checksums: { -readonly [K in keyof Checksums]: Checksums[K] } = {};
    for (const name of checksumElementNames) {
      const checksum = optionalChild(element, name);
      if (checksum !== undefined) checksums[name] = checksum.text.trim();
    }
    return {
      partNumber: unsignedInteger(requiredChild(element, 'PartNumber').text),
      etag: requiredChild(element, 'ETag').text,
      checksums,
    };
  });
  return { parts };
}

/** Only XML whitespace (and a byte order mark): the empty body CreateBucket allows. */
function isBlank(body: string | Uint8Array): boolean {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return /^[\ufeff \t\r\n]*$/.test(text);
}

function rootNamed(body: string | Uint8Array, name: string): XmlElement {
  const root = readXmlDocument(body);
  if (root.name !== name) throw malformedXml();
  return root;
}

/** xsd:boolean: true, false, 1 or 0. */
function xsdBoolean(text: string): boolean {
  const value = text.trim();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw malformedXml();
}

/** Decimal digits only; more than 15 of them cannot be a part number or size and are refused. */
function unsignedInteger(text: string): number {
  const value = text.trim();
  if (!/^\d{1,15}$/.test(value)) throw malformedXml();
  return Number(value);
}

function enumeration<const T extends string>(element: XmlElement | undefined, allowed: readonly T[]): T | undefined {
  if (element === undefined) return undefined;
  const value = element.text.trim();
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw malformedXml();
  return found;
}

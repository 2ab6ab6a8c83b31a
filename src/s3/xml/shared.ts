/**
 * Pieces several S3 response bodies share: owners, checksums, optional url-encoding of keys.
 * Element names follow the S3 API model (the AWS SDK's schemas), not only the prose docs.
 */
import { s3UrlEncode, type XmlWriter } from './write.ts';

export interface Owner {
  readonly id: string;
  readonly displayName?: string | undefined;
}

/** Base64 checksums by algorithm, as S3 names the elements; absent ones are not written. */
export interface Checksums {
  readonly ChecksumCRC32?: string | undefined;
  readonly ChecksumCRC32C?: string | undefined;
  readonly ChecksumCRC64NVME?: string | undefined;
  readonly ChecksumSHA1?: string | undefined;
  readonly ChecksumSHA256?: string | undefined;
  readonly ChecksumMD5?: string | undefined;
  readonly ChecksumXXHASH64?: string | undefined;
  readonly ChecksumXXHASH3?: string | undefined;
  readonly ChecksumXXHASH128?: string | undefined;
}

export const checksumElementNames = [
  'ChecksumCRC32',
  'ChecksumCRC32C',
  'ChecksumCRC64NVME',
  'ChecksumSHA1',
  'ChecksumSHA256',
  'ChecksumMD5',
  'ChecksumXXHASH64',
  'ChecksumXXHASH3',
  'ChecksumXXHASH128',
] as const satisfies readonly (keyof Checksums)[];

export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** `encoding-type` of a listing request: only `url` exists. */
export type EncodingType = 'url';

/** Writes `<name><ID/><DisplayName/></name>` (name is Owner or Initiator). */
export function writeOwner(xml: XmlWriter, name: 'Owner' | 'Initiator', owner: Owner): void {
  xml.open(name).leaf('ID', owner.id).optionalLeaf('DisplayName', owner.displayName).close(name);
}

export function writeChecksums(xml: XmlWriter, checksums: Checksums | undefined): void {
  if (checksums === undefined) return;
  for (const name of checksumElementNames) xml.optionalLeaf(name, checksums[name]);
}

/** A key, prefix, delimiter or marker as a listing writes it under its encoding type. */
export function listingText(value: string, encodingType: EncodingType | undefined): string {
  return encodingType === 'url' ? s3UrlEncode(value) : value;
}

export function optionalListingText(value: string | undefined, encodingType: EncodingType | undefined): string | undefined {
  return value === undefined ? undefined : listingText(value, encodingType);
}

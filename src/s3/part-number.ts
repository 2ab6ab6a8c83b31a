/**
 * GET/HEAD with ?partNumber=N: the bytes of one part of a multipart object (206, with
 * x-amz-mp-parts-count), or, for an object that was not uploaded in parts, part 1 = the whole
 * object. A part that does not exist is 416 InvalidPartNumber. Pure.
 */
import type { ChecksumValue } from '../events/types.ts';
import type { ObjectRecord } from '../model/records.ts';
import { s3Error } from './errors.ts';
import { readPartNumber } from './write-conditions.ts';

export interface PartSelection {
  readonly start: number;
  readonly end: number;
  /** Parts of the object; undefined when it was not a multipart upload. */
  readonly partsCount: number | undefined;
  readonly checksums: readonly ChecksumValue[];
}

export function selectPart(rec: ObjectRecord, raw: string | null, rangeHeader: string | undefined): PartSelection | undefined {
  if (raw === null) return undefined;
  const n = readPartNumber(raw);
  if (rangeHeader !== undefined) throw s3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  if (rec.parts.length === 0) {
    if (n !== 1) throw s3Error('InvalidPartNumber');
    return { start: 0, end: rec.size - 1, partsCount: undefined, checksums: rec.checksums };
  }
  const part = rec.parts.find((p) => p.partNumber === n);
  if (!part) throw s3Error('InvalidPartNumber');
  return { start: part.objectOffset, end: part.objectOffset + part.size - 1, partsCount: rec.parts.length, checksums: part.checksums };
}

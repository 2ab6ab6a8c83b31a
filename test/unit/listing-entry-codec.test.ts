/**
 * The binary value layout of the `objects` database (listing entries): round trips, the format
 * byte, and refusal of anything else (a msgpack value of format 1 is never misread).
 */
import { describe, expect, it } from 'vitest';
import { decodeListingEntry, encodeListingEntry, listingEntryFormat } from '../../src/model/listing-entry-codec.ts';
import type { ListingEntry } from '../../src/model/records.ts';

const entry: ListingEntry = {
  v: 2,
  versionId: '0mf3k2a1b0123456789abcdef0123',
  seq: 2 ** 53 - 1,
  size: 5 * 2 ** 40 + 7,
  etag: '9b2cf535f27731c974343645a3985328-10000',
  lastModifiedMs: 1_763_780_000_123,
  storageClass: 'STANDARD_IA',
  checksumAlgorithms: ['CRC32C', 'SHA256'],
  checksumType: 'COMPOSITE',
};

describe('listing entry codec', () => {
  it('given an entry with every field set, when encoded and decoded, then it is equal', () => {
    const bytes = encodeListingEntry(entry);
    expect(bytes[0]).toBe(listingEntryFormat);
    expect(decodeListingEntry(bytes)).toEqual(entry);
  });

  it('given empty strings, no checksums and zeros, when round-tripped, then it is equal', () => {
    const plain: ListingEntry = { ...entry, versionId: 'null', seq: 1, size: 0, etag: '', lastModifiedMs: 0, storageClass: '', checksumAlgorithms: [], checksumType: '' };
    expect(decodeListingEntry(encodeListingEntry(plain))).toEqual(plain);
  });

  it('given non-ASCII strings, when round-tripped, then they are kept byte for byte', () => {
    const odd: ListingEntry = { ...entry, storageClass: 'ÉTÉ-☃', etag: '"quoted"' };
    expect(decodeListingEntry(encodeListingEntry(odd))).toEqual(odd);
  });

  it('given a value inside a larger reused buffer, when decoded, then only its own bytes are read', () => {
    const bytes = encodeListingEntry(entry);
    const reused = Buffer.alloc(bytes.length + 64, 0xaa);
    bytes.copy(reused);
    expect(decodeListingEntry(reused.subarray(0, bytes.length))).toEqual(entry);
  });

  it('given another format byte or a truncated value, when decoded, then it refuses', () => {
    const bytes = encodeListingEntry(entry);
    const other = Buffer.from(bytes);
    other[0] = 1;
    expect(() => decodeListingEntry(other)).toThrow();
    expect(() => decodeListingEntry(bytes.subarray(0, bytes.length - 1))).toThrow();
    expect(() => decodeListingEntry(Buffer.concat([bytes, Buffer.from([0])]))).toThrow();
  });

  it('given a negative or unsafe integer, when encoded, then it refuses', () => {
    expect(() => encodeListingEntry({ ...entry, size: -1 })).toThrow();
    expect(() => encodeListingEntry({ ...entry, seq: 2 ** 53 })).toThrow();
  });
});

/**
 * Every section, in run order: ceilings first, then Strata. A new section (storage appends,
 * listing at scale, multipart) is a module exporting a `Section`, added here.
 */
import type { Section } from '../types.ts';
import { diskSection } from './disk.ts';
import { loopbackSection } from './loopback.ts';
import { md5Section } from './md5.ts';
import { objectGetSection } from './object-get.ts';
import { objectPutSection } from './object-put.ts';
import { storageSection } from './storage.ts';
import { multipartSection } from './multipart.ts';
import { listingSection } from './listing.ts';

export const sections: readonly Section[] = [md5Section, diskSection, loopbackSection, objectPutSection, objectGetSection, multipartSection, storageSection, listingSection];

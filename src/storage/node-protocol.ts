/**
 * The storage node's NATS request/reply protocol, shared by the client (NatsShardStore) and the
 * server (node-service.ts). Shard bytes travel as the raw message body; everything else is in
 * NATS headers, so no body is ever re-encoded.
 *
 *   subject                      request                           reply (ok)
 *   strata.node.<nodeId>.put     body: payload                     Strata-Status: ok
 *                                Strata-Shard-Id: 32 hex chars     Strata-Size: payload bytes
 *                                Strata-Crc32: crc32 of body       Strata-Crc32: crc32 stored
 *                                Strata-Sync: 1 | 0
 *   strata.node.<nodeId>.read    Strata-Shard-Id                   body: the bytes asked for
 *                                Strata-Offset: decimal            Strata-Status: ok
 *                                Strata-Length: decimal            Strata-Crc32: crc32 of body
 *                                                                  Strata-Size: body bytes
 *   strata.node.<nodeId>.info    (empty)                           body: JSON of StorageNodeStats
 *   strata.node.<nodeId>.compact JSON {deadRatioMin?}              body: JSON CompactionSummary
 *     progress on strata.node.<nodeId>.compact.progress (JSON CompactionProgress, not a reply)
 *   strata.node.<nodeId>.repair  JSON {lostNodeId?}                body: JSON RepairSummary
 *
 * An error reply has an empty body and `Strata-Status: error`, `Strata-Error: <StorageErrorCode>`,
 * `Strata-Error-Message: <text>` (and `Strata-Size` for out-of-range). Integers are decimal.
 * The put crc32 is checked by the node before writing and the read crc32 by the client after
 * receiving, so bytes damaged between processes are caught at either end.
 */
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { StorageErrorCode } from './errors.ts';

export const NodeHeader = {
  status: 'Strata-Status',
  shardId: 'Strata-Shard-Id',
  crc32: 'Strata-Crc32',
  size: 'Strata-Size',
  sync: 'Strata-Sync',
  offset: 'Strata-Offset',
  length: 'Strata-Length',
  error: 'Strata-Error',
  errorMessage: 'Strata-Error-Message',
} as const;

export interface NodeSubjects {
  readonly put: string;
  readonly read: string;
  readonly info: string;
  /** Request: JSON CompactRequest; reply: JSON CompactionSummary (or an error reply). */
  readonly compact: string;
  /** Published while a compaction runs: JSON CompactionProgress. */
  readonly compactProgress: string;
  /** Request: JSON {"sourceNodeId"?: string}; reply: JSON RepairSummary. */
  readonly repair: string;
}

export function nodeSubjects(nodeId: string): NodeSubjects {
  const base = `strata.node.${nodeId}`;
  return {
    put: `${base}.put`,
    read: `${base}.read`,
    info: `${base}.info`,
    compact: `${base}.compact`,
    compactProgress: `${base}.compact.progress`,
    repair: `${base}.repair`,
  };
}

const ERROR_CODES: ReadonlySet<string> = new Set<StorageErrorCode>([
  'not-found',
  'corrupt',
  'out-of-range',
  'too-large',
  'bad-request',
  'checksum-mismatch',
  'overloaded',
  'unavailable',
  'closed',
  'internal',
]);

export function requestHeaders(fields: Readonly<Record<string, string | number>>): MsgHdrs {
  const h = headers();
  for (const [k, v] of Object.entries(fields)) h.set(k, String(v));
  return h;
}

export function okHeaders(fields: Readonly<Record<string, string | number>>): MsgHdrs {
  const h = requestHeaders(fields);
  h.set(NodeHeader.status, 'ok');
  return h;
}

export function errorHeaders(code: StorageErrorCode, message: string, size?: number): MsgHdrs {
  const h = headers();
  h.set(NodeHeader.status, 'error');
  h.set(NodeHeader.error, code);
  // Header values are one line of printable text.
  h.set(NodeHeader.errorMessage, message.replace(/[^\x20-\x7e]/g, ' ').slice(0, 512));
  if (size !== undefined) h.set(NodeHeader.size, String(size));
  return h;
}

export type ReplyStatus =
  | { readonly kind: 'ok' }
  | { readonly kind: 'error'; readonly code: StorageErrorCode; readonly message: string; readonly size: number | undefined };

export function replyStatus(h: MsgHdrs | undefined): ReplyStatus {
  const status = h?.get(NodeHeader.status);
  if (h !== undefined && status === 'ok') return { kind: 'ok' };
  const code = h?.get(NodeHeader.error) ?? '';
  return {
    kind: 'error',
    code: ERROR_CODES.has(code) ? (code as StorageErrorCode) : 'internal',
    message: h?.get(NodeHeader.errorMessage) || `malformed reply (status ${JSON.stringify(status ?? '')})`,
    size: parseNonNegativeInt(h?.get(NodeHeader.size)),
  };
}

/** A decimal safe integer >= 0, or undefined for anything else (absent headers included). */
export function parseNonNegativeInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function parseU32(value: string | undefined): number | undefined {
  const n = parseNonNegativeInt(value);
  return n !== undefined && n <= 0xffff_ffff ? n : undefined;
}

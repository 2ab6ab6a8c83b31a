/**
 * What the gateway writes shards to and reads them from: a storage node, either in this process
 * (LocalShardStore, no copy and no hop) or behind NATS request/reply (NatsShardStore, protocol in
 * node-protocol.ts). Both surface the same typed errors from errors.ts.
 */
import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { crc32 } from '../lib/checksums.ts';
import { assert } from '../lib/assert.ts';
import { limits } from '../lib/limits.ts';
import {
  NodeClosedError,
  NodeOverloadedError,
  NodeUnavailableError,
  ShardCorruptError,
  ShardNotFoundError,
  ShardRangeError,
  ShardTooLargeError,
  StorageError,
} from './errors.ts';
import type { StorageNode } from './node.ts';
import { NodeHeader, nodeSubjects, parseNonNegativeInt, parseU32, replyStatus, requestHeaders } from './node-protocol.ts';
import { crc32Of, isValidNodeId } from './segment-format.ts';
import { isValidShardId } from './shard-id.ts';

export interface ShardPutResult {
  readonly shardId: string;
  readonly nodeId: string;
  readonly size: number;
  readonly crc32: number;
}

export interface ShardStore {
  readonly nodeId: string;
  /** `crc32OfData`: the crc32 of `data` when the caller already computed it over these bytes. */
  putShard(shardId: string, data: Buffer[], opts: { sync: boolean; crc32OfData?: number }): Promise<ShardPutResult>;
  readShard(shardId: string, offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * Largest shard that can travel over this connection: limits.shardBytesMax, or less when the
 * server's max_payload (minus headroom for headers) is smaller. Gateways cut objects to this.
 */
export function maxShardBytes(nc: NatsConnection): number {
  const maxPayload = nc.info?.max_payload;
  if (maxPayload === undefined) throw new Error('NATS server info unknown: is the connection open?');
  const bytes = Math.min(limits.shardBytesMax, maxPayload - limits.natsPayloadHeadroomBytes);
  if (bytes <= 0) {
    throw new Error(`NATS max_payload ${maxPayload} leaves no room for shards (${limits.natsPayloadHeadroomBytes} bytes headroom)`);
  }
  return bytes;
}

/** Calls a StorageNode in this process. The node belongs to whoever opened it: close() leaves it open. */
export class LocalShardStore implements ShardStore {
  readonly nodeId: string;

  constructor(readonly node: StorageNode) {
    this.nodeId = node.nodeId;
  }

  async putShard(shardId: string, data: Buffer[], opts: { sync: boolean; crc32OfData?: number }): Promise<ShardPutResult> {
    const loc = await this.node.putShard(shardId, data, opts);
    return { shardId, nodeId: this.nodeId, size: loc.size, crc32: loc.crc32 };
  }

  readShard(shardId: string, offset: number, length: number): Promise<Buffer> {
    return this.node.readShard(shardId, offset, length);
  }

  /** The node verified a whole-shard read against its record's crc32, in this process: that crc32 comes along. */
  async readShardVerified(shardId: string, offset: number, length: number): Promise<{ data: Buffer; crc32: number | undefined }> {
    const r = await this.node.tryReadShard(shardId, offset, length);
    // The other outcomes thrown as StorageNode.readShard throws them.
    switch (r.kind) {
      case 'ok':
        return { data: r.data, crc32: r.crc32 };
      case 'not-found':
        throw new ShardNotFoundError(shardId);
      case 'corrupt':
        throw new ShardCorruptError(shardId, r.reason);
      case 'out-of-range':
        throw new ShardRangeError(shardId, offset, length, r.size);
    }
  }

  async close(): Promise<void> {}
}

export interface NatsShardStoreOptions {
  readonly timeoutMs?: number;
}

/** Calls a storage node over NATS. The connection belongs to the caller: close() leaves it open. */
export class NatsShardStore implements ShardStore {
  private readonly subjects: ReturnType<typeof nodeSubjects>;
  private readonly timeoutMs: number;

  constructor(
    private readonly nc: NatsConnection,
    readonly nodeId: string,
    opts: NatsShardStoreOptions = {},
  ) {
    assert(isValidNodeId(nodeId), `bad node id ${JSON.stringify(nodeId)}`);
    this.subjects = nodeSubjects(nodeId);
    this.timeoutMs = opts.timeoutMs ?? limits.nodeRequestTimeoutMs;
  }

  async putShard(shardId: string, data: Buffer[], opts: { sync: boolean; crc32OfData?: number }): Promise<ShardPutResult> {
    assert(isValidShardId(shardId), `bad shard id ${JSON.stringify(shardId)}`);
    let size = 0;
    for (const part of data) size += part.length;
    const max = maxShardBytes(this.nc);
    if (size > max) throw new ShardTooLargeError(size, max);
    const sum = opts.crc32OfData ?? crc32Of(data);
    // A NATS message is one buffer, so several parts are joined here (the only copy on this path).
    const body = data.length === 1 && data[0] !== undefined ? data[0] : Buffer.concat(data, size);
    const h = requestHeaders({ [NodeHeader.shardId]: shardId, [NodeHeader.crc32]: sum, [NodeHeader.sync]: opts.sync ? '1' : '0' });
    const reply = await this.request(this.subjects.put, body, h);
    this.throwIfError(reply, shardId, 0, size);
    const storedSize = parseNonNegativeInt(reply.headers?.get(NodeHeader.size));
    const storedCrc = parseU32(reply.headers?.get(NodeHeader.crc32));
    if (storedSize !== size || storedCrc !== sum) {
      throw new StorageError('internal', `node ${this.nodeId} stored ${String(storedSize)} bytes crc ${String(storedCrc)}, sent ${size} crc ${sum}`);
    }
    return { shardId, nodeId: this.nodeId, size, crc32: sum };
  }

  async readShard(shardId: string, offset: number, length: number): Promise<Buffer> {
    assert(isValidShardId(shardId), `bad shard id ${JSON.stringify(shardId)}`);
    assert(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0, 'bad range');
    const max = maxShardBytes(this.nc);
    if (length > max) throw new ShardTooLargeError(length, max);
    const h = requestHeaders({ [NodeHeader.shardId]: shardId, [NodeHeader.offset]: offset, [NodeHeader.length]: length });
    const reply = await this.request(this.subjects.read, undefined, h);
    this.throwIfError(reply, shardId, offset, length);
    const data = reply.data;
    const sum = parseU32(reply.headers?.get(NodeHeader.crc32));
    if (data.length !== length || sum !== crc32(data)) {
      throw new ShardCorruptError(shardId, `reply from node ${this.nodeId} damaged in transit`);
    }
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  async close(): Promise<void> {}

  private async request(subject: string, body: Uint8Array | undefined, h: MsgHdrs): Promise<Msg> {
    try {
      return await this.nc.request(subject, body, { timeout: this.timeoutMs, headers: h });
    } catch (err) {
      // No responder, timeout or a closed connection: the caller may try another node.
      throw new NodeUnavailableError(this.nodeId, { cause: err });
    }
  }

  private throwIfError(reply: Msg, shardId: string, offset: number, length: number): void {
    const status = replyStatus(reply.headers);
    if (status.kind === 'ok') return;
    switch (status.code) {
      case 'not-found':
        throw new ShardNotFoundError(shardId);
      case 'corrupt':
        throw new ShardCorruptError(shardId, status.message);
      case 'out-of-range':
        throw new ShardRangeError(shardId, offset, length, status.size ?? -1);
      case 'overloaded':
        throw new NodeOverloadedError(this.nodeId);
      case 'closed':
        throw new NodeClosedError(this.nodeId);
      default:
        throw new StorageError(status.code, `node ${this.nodeId}: ${status.message}`);
    }
  }
}

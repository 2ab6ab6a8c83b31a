/**
 * What a handler gets: the parsed request, the authenticated caller, the engine, and the body as
 * decoded bytes (aws-chunked framing removed and its signatures checked as it streams).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Engine } from '../gateway/engine.ts';
import type { Actor } from '../gateway/types.ts';
import type { Clock } from '../lib/clock.ts';
import type { RequestTarget } from './route.ts';
import type { PayloadMode } from './sigv4/verify.ts';

export interface GatewayConfig {
  readonly region: string;
  readonly baseDomains: readonly string[];
  readonly ownerId: string;
  readonly ownerName: string;
}

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly target: RequestTarget;
  readonly bucket: string;
  readonly key: string;
  readonly actor: Actor;
  readonly payload: PayloadMode;
  readonly engine: Engine;
  readonly clock: Clock;
  readonly config: GatewayConfig;
  /**
   * Decoded request body; reading it sends `100 Continue` to a client that waits for one.
   * `checksumComparedByReader`: the caller compares the body with a declared trailer checksum
   * itself (it computes that checksum anyway), so the aws-chunked decoder need not.
   */
  body(opts?: { readonly checksumComparedByReader?: boolean }): Readable;
  /** Trailing headers of an aws-chunked body, available once the body has ended. */
  trailer(name: string): string | undefined;
  /** Declared decoded body length: x-amz-decoded-content-length, else Content-Length. */
  readonly declaredLength: number | undefined;
  header(name: string): string | undefined;
}

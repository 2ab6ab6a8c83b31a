/**
 * The S3 HTTP gateway: node:http server → request id → route → SigV4 → operation → handler.
 * Every answer carries x-amz-request-id; every failure is the XML error AWS would send, from the
 * one table in errors.ts. Unknown failures are InternalError, logged with the request id.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import type { Engine } from '../gateway/engine.ts';
import type { Clock } from '../lib/clock.ts';
import { newRequestId } from '../lib/ids.ts';
import { limits } from '../lib/limits.ts';
import { retryableKindOf } from '../lib/retryable.ts';
import type { GatewayConfig, RequestContext } from './context.ts';
import { S3Error, s3Error } from './errors.ts';
import { handlers } from './handlers/index.ts';
import { headerValue, parseRequestTarget, resolveOperation } from './route.ts';
import { awsChunkedOptions, createAwsChunkedDecoder, createSha256Verifier } from './sigv4/chunked.ts';
import { verifyRequest, type AuthResult, type SecretLookup } from './sigv4/verify.ts';
import { errorXml } from './xml/responses.ts';

export interface S3ServerDeps {
  readonly engine: Engine;
  readonly lookupSecret: SecretLookup;
  readonly clock: Clock;
  readonly config: GatewayConfig;
  readonly log: (line: string) => void;
}

export function createS3Server(deps: S3ServerDeps): Server {
  let inFlight = 0;
  const serve = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    inFlight++;
    res.once('close', () => inFlight--);
    void handle(deps, req, res, expectsContinue, inFlight > limits.gatewayRequestsInFlightMax);
  };
  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 }, (req, res) => serve(req, res, false));
  // A client that sends `Expect: 100-continue` waits for us before sending its body, so a request
  // refused on its headers (auth, missing bucket) never transfers the body.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => serve(req, res, true));
  return server;
}

async function handle(deps: S3ServerDeps, req: IncomingMessage, res: ServerResponse, expectsContinue: boolean, overloaded: boolean): Promise<void> {
  const requestId = newRequestId();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', Buffer.from(requestId).toString('base64'));
  res.setHeader('Server', 'Strata');
  let resource = req.url ?? '/';
  let bodyStarted = false;
  try {
    if (overloaded) throw s3Error('SlowDown');
    const target = parseRequestTarget({ method: req.method ?? 'GET', rawUrl: req.url ?? '/', host: req.headers.host, baseDomains: deps.config.baseDomains });
    if (!target.ok) throw target.error;
    resource = target.rawPath;
    const auth = verifyRequest({ method: req.method ?? 'GET', rawUrl: req.url ?? '/', headers: req.headers, headersDistinct: req.headersDistinct }, deps.lookupSecret, deps.clock.nowMs());
    if (!auth.ok) throw s3Error(auth.code, auth.message, auth.extra ? { ...auth.extra } : undefined);
    const op = resolveOperation(req.method ?? 'GET', target.bucket, target.key, target.query, req.headers);
    if (typeof op === 'object') {
      if ('error' in op) throw op.error;
      throw s3Error('NotImplemented', `${op.unsupported} is not implemented by Strata.`);
    }
    const handler = handlers[op];
    if (!handler) throw s3Error('NotImplemented', `${op} is not implemented by Strata yet.`);
    let decoded: { stream: Readable; trailers: () => ReadonlyMap<string, string> } | undefined;
    const ctx: RequestContext = {
      req,
      res,
      requestId,
      target,
      bucket: target.bucket ?? '',
      key: target.key ?? '',
      actor: { accessKey: auth.accessKeyId, requestId, sourceAddress: req.socket.remoteAddress ?? '' },
      payload: auth.payload,
      engine: deps.engine,
      clock: deps.clock,
      config: deps.config,
      declaredLength: declaredLength(req),
      header: (name) => headerValue(req.headers, name),
      body: (opts) => {
        if (!decoded) {
          bodyStarted = true;
          if (expectsContinue) res.writeContinue();
          decoded = decodeBody(req, auth, !(opts?.checksumComparedByReader ?? false));
        }
        return decoded.stream;
      },
      trailer: (name) => decoded?.trailers().get(name.toLowerCase()),
    };
    await handler(ctx);
  } catch (err) {
    sendError(deps, req, res, requestId, resource, err, expectsContinue && !bodyStarted);
  }
}

function declaredLength(req: IncomingMessage): number | undefined {
  const v = req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'];
  if (v === undefined || Array.isArray(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The body as the object's bytes: aws-chunked framing removed (and verified), or the raw body. */
function decodeBody(
  req: IncomingMessage,
  auth: Extract<AuthResult, { ok: true }>,
  verifyTrailerChecksum: boolean,
): { stream: Readable; trailers: () => ReadonlyMap<string, string> } {
  const chunked = awsChunkedOptions(req.headers, auth);
  if (chunked instanceof S3Error) throw chunked;
  if (chunked) {
    const decoder = createAwsChunkedDecoder({ ...chunked, verifyTrailerChecksum });
    pipeline(req, decoder, () => undefined);
    return { stream: decoder, trailers: () => decoder.trailers() };
  }
  if (auth.payload.kind === 'sha256') {
    const verifier = createSha256Verifier(auth.payload.hex);
    pipeline(req, verifier, () => undefined);
    return { stream: verifier, trailers: () => new Map() };
  }
  return { stream: req, trailers: () => new Map() };
}

/**
 * A storage node that is down, closing or overloaded is a condition to retry, not a server bug:
 * 503 SlowDown / ServiceUnavailable (which SDKs retry with backoff), as AWS answers when it sheds
 * load. Anything else unknown stays InternalError.
 */
function unavailable(err: unknown): S3Error | undefined {
  const kind = retryableKindOf(err);
  if (kind === 'overloaded') return s3Error('SlowDown');
  if (kind === 'unavailable') return s3Error('ServiceUnavailable');
  return undefined;
}

function sendError(deps: S3ServerDeps, req: IncomingMessage, res: ServerResponse, requestId: string, resource: string, err: unknown, bodyNeverSent: boolean): void {
  if (clientWentAway(req, err)) {
    // The client closed the connection mid-request: nobody is left to answer, and nothing was
    // committed (the event is published only after the whole body arrived and verified).
    res.destroy();
    return;
  }
  let e: S3Error;
  if (err instanceof S3Error) {
    e = err;
  } else {
    e = unavailable(err) ?? s3Error('InternalError');
    deps.log(`request ${requestId} ${req.method ?? ''} ${req.url ?? ''} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  if (res.headersSent) {
    // The status line is out: the only honest signal left is to cut the connection.
    res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  res.statusCode = e.status;
  if (bodyNeverSent && !req.complete) {
    // The client is still waiting for `100 Continue` and will not send its body: this connection
    // cannot carry another request. (Other unread bodies are drained by node:http after the
    // answer, which keeps the client able to read it instead of seeing a reset.)
    res.setHeader('Connection', 'close');
  }
  if (req.method === 'HEAD' || e.status === 304) {
    res.end();
  } else {
    const body = errorXml(e, { requestId, resource });
    res.setHeader('Content-Type', 'application/xml');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  }
}

function clientWentAway(req: IncomingMessage, err: unknown): boolean {
  if (err instanceof S3Error) return false;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : '';
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || message === 'aborted' || (req.destroyed && !req.complete);
}

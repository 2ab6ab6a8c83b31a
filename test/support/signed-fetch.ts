/**
 * Hand-made SigV4 requests sent with plain `fetch`, for what the SDK will not send: a body that
 * differs from its signed hash, a request dated too far in the past, broken XML. Signed by
 * @smithy/signature-v4, the signer inside the SDK.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { testCredentials } from './strata.ts';

type SourceData = string | ArrayBuffer | ArrayBufferView;
const toNode = (d: SourceData): string | Buffer =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** Hash constructor for @smithy/signature-v4 backed by node:crypto. */
class NodeSha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toNode(secret));
  }
  update(data: SourceData): void {
    this.h.update(toNode(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {}
}

export interface SignedFetchInput {
  readonly method: string;
  /** The path as sent on the wire (already percent-encoded), e.g. `/bucket/a%20b`. */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** x-amz-content-sha256 to sign; defaults to the SHA-256 of `body`. */
  readonly payloadHash?: string;
  readonly signingDate?: Date;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The headers of `input` signed for `endpoint` (host excluded: fetch and node:http set it). */
export async function signHeaders(endpoint: string, input: SignedFetchInput): Promise<Record<string, string>> {
  const url = new URL(endpoint);
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: {
      accessKeyId: input.accessKeyId ?? testCredentials.accessKeyId,
      secretAccessKey: input.secretAccessKey ?? testCredentials.secretAccessKey,
    },
    sha256: NodeSha256,
    // S3 signs the path as sent, not escaped a second time.
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    {
      method: input.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: input.path,
      query: input.query ?? {},
      headers: {
        host: url.host,
        'x-amz-content-sha256': input.payloadHash ?? sha256Hex(input.body ?? ''),
        ...(input.headers ?? {}),
      },
    },
    input.signingDate === undefined ? {} : { signingDate: input.signingDate },
  );
  return Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k.toLowerCase() !== 'host'));
}

export async function signedFetch(endpoint: string, input: SignedFetchInput): Promise<Response> {
  const headers = await signHeaders(endpoint, input);
  const q = new URLSearchParams(input.query ?? {}).toString().replace(/\+/g, '%20');
  const target = `${new URL(endpoint).origin}${input.path}${q === '' ? '' : `?${q}`}`;
  const init: RequestInit = { method: input.method, headers };
  if (input.body !== undefined && input.method !== 'GET' && input.method !== 'HEAD') {
    init.body = typeof input.body === 'string' ? input.body : new Uint8Array(input.body);
  }
  return fetch(target, init);
}

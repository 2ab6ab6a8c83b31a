/**
 * The lean HTTP/1.1 client every load cell uses, against Strata and against the bare loopback
 * server alike, so the two differ only in the server.
 *
 * Why not node:http: on this machine its client side alone caps a 1 MiB GET loop at about
 * 0.6–0.9 GiB/s (a fresh 64 KiB buffer per socket read, the IncomingMessage stream, socket
 * pause/resume), while a socket reading into one reused buffer does 2–3 GiB/s against the same
 * server. A client that slow would lower the loopback ceiling and flatter every GET ratio.
 *
 * So: one keep-alive TCP connection per worker (pool size = the cell's concurrency), requests
 * written as one head string plus the body Buffer (corked), responses read with `onread` into a
 * per-connection buffer that is reused for every read. Bodies are counted and dropped unless the
 * caller asks for them (then copied out). Framing: Content-Length, chunked, or read-to-close;
 * no body for HEAD, 1xx, 204 and 304. `Connection: close` from the server is honoured.
 */
import { connect, type Socket } from 'node:net';
import type { SigV4Signer } from './sigv4.ts';

export interface HttpResult {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: number;
  /** The body, when the caller asked for it or the status is an error. */
  readonly body: Buffer | undefined;
}

/** Error bodies are kept up to this many bytes for the message. */
const errorBodyBytesMax = 4096;
/** Bytes one socket read can return: big enough that a 1 MiB body takes a handful of reads. */
const readBufferBytes = 256 * 1024;
/** Longest response head we accept. */
const headBytesMax = 64 * 1024;

interface Pending {
  readonly method: string;
  readonly keepBody: boolean;
  resolve(r: HttpResult): void;
  reject(err: Error): void;
}

type BodyState =
  | { kind: 'none' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunk-size'; line: string }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-crlf'; seen: number }
  | { kind: 'trailers'; line: string }
  | { kind: 'until-close' };

class Connection {
  private socket: Socket | undefined;
  private pending: Pending | undefined;
  private readonly readBuffer = Buffer.allocUnsafe(readBufferBytes);
  // Response parse state.
  private head: Buffer[] = [];
  private headBytes = 0;
  private inBody = false;
  private body: BodyState = { kind: 'none' };
  private status = 0;
  private headers: Record<string, string> = {};
  private bytes = 0;
  private chunks: Buffer[] = [];
  private keepChunks = false;
  private closeAfter = false;

  constructor(
    private readonly hostname: string,
    private readonly port: number,
  ) {}

  send(method: string, head: string, payload: Buffer | undefined, keepBody: boolean): Promise<HttpResult> {
    if (this.pending) return Promise.reject(new Error('connection busy'));
    const socket = this.socket ?? this.open();
    return new Promise<HttpResult>((resolve, reject) => {
      this.pending = { method, keepBody, resolve, reject };
      this.resetResponse();
      socket.cork();
      socket.write(head, 'latin1');
      if (payload !== undefined && payload.length > 0) socket.write(payload);
      socket.uncork();
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const socket = connect({
      host: this.hostname,
      port: this.port,
      noDelay: true,
      onread: { buffer: this.readBuffer, callback: (n: number) => this.onRead(n) },
    });
    // Events of a socket this connection already dropped (closed after `Connection: close` or a
    // failure) must not touch the request now running on its successor.
    socket.on('error', (err) => {
      if (this.socket === socket) this.fail(err);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.pending && this.inBody && this.body.kind === 'until-close') this.finish();
      else if (this.pending) this.fail(new Error('connection closed before the response was complete'));
    });
    this.socket = socket;
    return socket;
  }

  private resetResponse(): void {
    this.head = [];
    this.headBytes = 0;
    this.inBody = false;
    this.body = { kind: 'none' };
    this.status = 0;
    this.headers = {};
    this.bytes = 0;
    this.chunks = [];
    this.keepChunks = false;
    this.closeAfter = false;
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    this.close();
    p?.reject(err);
  }

  private onRead(n: number): boolean {
    if (!this.pending) {
      this.fail(new Error(`${n} unexpected bytes from the server`));
      return false;
    }
    try {
      this.consume(this.readBuffer.subarray(0, n));
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    return true;
  }

  private consume(data: Buffer): void {
    let rest = data;
    while (rest.length > 0 && this.pending) {
      if (!this.inBody) {
        rest = this.consumeHead(rest);
        continue;
      }
      rest = this.consumeBody(rest);
    }
  }

  /** Collects the head; once complete, sets up body framing and returns the bytes after it. */
  private consumeHead(data: Buffer): Buffer {
    let all: Buffer;
    let end: number;
    if (this.headBytes === 0) {
      // The usual case: the whole head is in this read. Parse it in place, no copy.
      all = data;
      end = data.indexOf('\r\n\r\n', 0, 'latin1');
    } else {
      // The end marker may straddle two reads: search from 3 bytes before the new data.
      all = Buffer.concat([...this.head, data]);
      end = all.indexOf('\r\n\r\n', Math.max(0, this.headBytes - 3), 'latin1');
    }
    if (end < 0) {
      // The read buffer is reused: keep a copy of the partial head.
      this.head = [Buffer.from(all)];
      this.headBytes = all.length;
      if (this.headBytes > headBytesMax) throw new Error('response head too long');
      return Buffer.alloc(0);
    }
    const lines = all.toString('latin1', 0, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw new Error(`bad status line: ${lines[0] ?? ''}`);
    this.status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const after = all.subarray(end + 4);
    if (this.status >= 100 && this.status < 200) {
      // An interim answer (100 Continue): the real one follows.
      this.head = [];
      this.headBytes = 0;
      return after;
    }
    this.headers = headers;
    this.closeAfter = (headers['connection'] ?? '').toLowerCase() === 'close';
    this.keepChunks = this.pending?.keepBody === true || this.status >= 300;
    this.inBody = true;
    if (this.pending?.method === 'HEAD' || this.status === 204 || this.status === 304) {
      this.body = { kind: 'length', remaining: 0 };
    } else if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
      this.body = { kind: 'chunk-size', line: '' };
    } else if (headers['content-length'] !== undefined) {
      this.body = { kind: 'length', remaining: Number(headers['content-length']) };
    } else {
      this.body = { kind: 'until-close' };
    }
    if (this.body.kind === 'length' && this.body.remaining === 0) this.finish();
    return after;
  }

  private take(data: Buffer): void {
    this.bytes += data.length;
    if (this.keepChunks && (this.pending?.keepBody === true || this.bytes <= errorBodyBytesMax)) this.chunks.push(Buffer.from(data));
  }

  /** Consumes body bytes per the framing; returns what is left (bytes of a next response). */
  private consumeBody(data: Buffer): Buffer {
    const b = this.body;
    switch (b.kind) {
      case 'none':
        throw new Error('body without a response');
      case 'until-close':
        this.take(data);
        return Buffer.alloc(0);
      case 'length': {
        const n = Math.min(b.remaining, data.length);
        this.take(data.subarray(0, n));
        b.remaining -= n;
        if (b.remaining === 0) this.finish();
        return data.subarray(n);
      }
      case 'chunk-data': {
        const n = Math.min(b.remaining, data.length);
        this.take(data.subarray(0, n));
        b.remaining -= n;
        if (b.remaining === 0) this.body = { kind: 'chunk-crlf', seen: 0 };
        return data.subarray(n);
      }
      case 'chunk-crlf': {
        const n = Math.min(2 - b.seen, data.length);
        b.seen += n;
        if (b.seen === 2) this.body = { kind: 'chunk-size', line: '' };
        return data.subarray(n);
      }
      case 'chunk-size':
      case 'trailers': {
        const nl = data.indexOf(10);
        const text = data.toString('latin1', 0, nl < 0 ? data.length : nl + 1);
        b.line += text;
        if (b.line.length > 4096) throw new Error('chunk line too long');
        if (nl < 0) return Buffer.alloc(0);
        const line = b.line.trim();
        if (b.kind === 'trailers') {
          if (line === '') this.finish();
          else this.body = { kind: 'trailers', line: '' };
        } else {
          const size = parseInt(line.split(';')[0] ?? '', 16);
          if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad chunk size line: ${line}`);
          this.body = size === 0 ? { kind: 'trailers', line: '' } : { kind: 'chunk-data', remaining: size };
        }
        return data.subarray(nl + 1);
      }
    }
  }

  private finish(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const result: HttpResult = {
      status: this.status,
      headers: this.headers,
      bytes: this.bytes,
      body: this.keepChunks ? Buffer.concat(this.chunks) : undefined,
    };
    if (this.closeAfter) this.close();
    this.resetResponse();
    p.resolve(result);
  }
}

export class BenchClient {
  private readonly idle: Connection[] = [];
  private readonly all: Connection[] = [];
  private readonly waiters: ((c: Connection) => void)[] = [];
  private readonly hostname: string;
  private readonly port: number;
  private readonly hostHeader: string;

  constructor(
    endpoint: string,
    private readonly concurrency: number,
    private readonly signer: SigV4Signer | undefined,
  ) {
    const url = new URL(endpoint);
    this.hostname = url.hostname;
    this.port = Number(url.port || 80);
    this.hostHeader = url.host;
  }

  async request(method: string, path: string, body: Buffer | undefined, keepBody: boolean): Promise<HttpResult> {
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    if (this.signer) for (const [k, v] of Object.entries(this.signer.sign(method, path, this.hostHeader))) head += `${k}: ${v}\r\n`;
    if (body !== undefined || method === 'PUT' || method === 'POST') head += `content-length: ${body?.length ?? 0}\r\n`;
    head += '\r\n';
    const conn = await this.acquire();
    try {
      return await conn.send(method, head, body, keepBody);
    } finally {
      this.release(conn);
    }
  }

  /** A request with headers the caller computed (e.g. signed with a query string). */
  async requestWithHeaders(method: string, target: string, headers: Readonly<Record<string, string>>, keepBody: boolean): Promise<HttpResult> {
    let head = `${method} ${target} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += '\r\n';
    const conn = await this.acquire();
    try {
      return await conn.send(method, head, undefined, keepBody);
    } finally {
      this.release(conn);
    }
  }

  get host(): string {
    return this.hostHeader;
  }

  close(): void {
    for (const c of this.all) c.close();
  }

  private acquire(): Promise<Connection> {
    const c = this.idle.pop();
    if (c) return Promise.resolve(c);
    if (this.all.length < this.concurrency) {
      const fresh = new Connection(this.hostname, this.port);
      this.all.push(fresh);
      return Promise.resolve(fresh);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(c: Connection): void {
    const w = this.waiters.shift();
    if (w) w(c);
    else this.idle.push(c);
  }
}

/** "GET /b/k → 403 AccessDenied: ..." from an error answer, for the cell's first-error note. */
export function describeFailure(method: string, path: string, r: HttpResult): string {
  const text = r.body?.toString('utf8') ?? '';
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return `${method} ${path} → ${r.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : text && !code ? `: ${text.slice(0, 200)}` : ''}`;
}

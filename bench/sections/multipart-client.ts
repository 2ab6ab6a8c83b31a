/**
 * A lean S3 client for the multipart bench: node:http keep-alive, SigV4 header auth with
 * UNSIGNED-PAYLOAD, any query string and extra signed headers, and streamed request bodies (a
 * 1 GiB PUT is a buffer sent over and over, never 1 GiB in memory). No SDK: its per-part CRC and
 * MD5 work would compete with the server for the same two cores.
 */
import { createHash, createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface BenchS3Options {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly maxSockets: number;
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

const encode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export class BenchS3 {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(private readonly o: BenchS3Options) {
    this.agent = new Agent({ keepAlive: true, maxSockets: o.maxSockets });
    this.url = new URL(o.endpoint);
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * `path` is already url-encoded; `query` maps names to values. The body is `repeat` copies of
   * `chunk` (Content-Length = repeat × chunk.length), written with backpressure.
   */
  send(method: string, path: string, query: Record<string, string>, extra: Record<string, string>, chunk?: Buffer, repeat = 1): Promise<Answer> {
    const qs = Object.keys(query)
      .sort()
      .map((k) => `${encode(k)}=${encode(query[k] ?? '')}`)
      .join('&');
    const host = this.url.host;
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const headers: Record<string, string> = { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-date': amzDate };
    for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v;
    const names = Object.keys(headers).sort();
    const canonical = `${method}\n${path}\n${qs}\n${names.map((n) => `${n}:${headers[n] ?? ''}\n`).join('')}\n${names.join(';')}\nUNSIGNED-PAYLOAD`;
    const scope = `${day}/us-east-1/s3/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
    const key = hmac(hmac(hmac(hmac(`AWS4${this.o.secretAccessKey}`, day), 'us-east-1'), 's3'), 'aws4_request');
    const signature = createHmac('sha256', key).update(toSign).digest('hex');
    const length = chunk ? chunk.length * repeat : 0;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.url.hostname,
          port: Number(this.url.port || 80),
          method,
          path: qs ? `${path}?${qs}` : path,
          agent: this.agent,
          headers: {
            ...headers,
            'content-length': String(length),
            authorization: `AWS4-HMAC-SHA256 Credential=${this.o.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
          },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (b: Buffer) => parts.push(b));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (chunk && sent < repeat) {
          sent++;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
  }
}

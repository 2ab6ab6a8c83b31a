/**
 * A minimal SigV4 signer for the bench client: header auth with `x-amz-content-sha256:
 * UNSIGNED-PAYLOAD`, so the client never hashes bodies and the server checks only the header
 * signature (what most S3 clients send over TLS). It signs host, x-amz-content-sha256 and
 * x-amz-date, caches the derived key per day, and is synchronous: a few microseconds per request,
 * so the client stays out of the way of the server it measures.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SigV4Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

/** Characters that UriEncode leaves alone, plus '/': paths made of these sign as themselves. */
const plainPath = /^[A-Za-z0-9\-_.~/]+$/;

export class SigV4Signer {
  private keyDate = '';
  private key: Buffer = Buffer.alloc(0);
  private stampSecond = -1;
  private stamp = '';

  constructor(private readonly creds: SigV4Credentials) {}

  /** Headers to add to a request of `method` on `path` (no query) sent to `host` (with port). */
  sign(method: string, path: string, host: string): Record<string, string> {
    if (!plainPath.test(path)) throw new Error(`bench signer only signs plain paths, got ${path}`);
    const amzDate = this.amzDate();
    const day = amzDate.slice(0, 8);
    const scope = `${day}/${this.creds.region}/s3/aws4_request`;
    const canonical = `${method}\n${path}\n\nhost:${host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:${amzDate}\n\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(day)).update(stringToSign).digest('hex');
    return {
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.creds.accessKeyId}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
    };
  }

  private amzDate(): string {
    const nowMs = Date.now();
    const second = Math.floor(nowMs / 1000);
    if (second !== this.stampSecond) {
      this.stampSecond = second;
      this.stamp = new Date(second * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    }
    return this.stamp;
  }

  private signingKey(day: string): Buffer {
    if (day !== this.keyDate) {
      const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
      this.key = hmac(hmac(hmac(hmac(`AWS4${this.creds.secretAccessKey}`, day), this.creds.region), 's3'), 'aws4_request');
      this.keyDate = day;
    }
    return this.key;
  }
}

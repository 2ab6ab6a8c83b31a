/**
 * Assertions on S3 error answers as the SDK surfaces them: the error's name (the S3 code, or for
 * bodiless HEAD answers the SDK's name for the status), the HTTP status, and the raw response's
 * x-amz-request-id header (read from `$response`, not from the XML body's RequestId).
 */
import { expect } from 'vitest';

export interface SdkError {
  readonly name: string;
  readonly message: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly requestId?: string };
  readonly $response?: { readonly statusCode?: number; readonly headers?: Record<string, string> };
  readonly Code?: string;
}

/** Awaits `p`, expects it to fail with `name` and `status`, and returns the error. */
export async function expectS3Error(p: Promise<unknown>, name: string, status: number): Promise<SdkError> {
  let err: SdkError | undefined;
  try {
    await p;
  } catch (e) {
    err = e as SdkError;
  }
  if (err === undefined) throw new Error(`expected ${name} (${status}), but the request succeeded`);
  const seen = { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  expect(seen, `error ${JSON.stringify(seen)}`).toMatchObject({ name, status });
  expect(err.$response?.headers?.['x-amz-request-id'], 'x-amz-request-id header on the error answer').toMatch(/^\S+$/);
  return err;
}

/** A plain fetch answer that is an S3 error: status, XML <Code>, and an x-amz-request-id header. */
export async function expectFetchError(res: Response, code: string, status: number): Promise<string> {
  const body = await res.text();
  expect({ status: res.status, code: /<Code>([^<]*)<\/Code>/.exec(body)?.[1] }, body).toEqual({ status, code });
  expect(res.headers.get('x-amz-request-id'), 'x-amz-request-id header').toMatch(/^\S+$/);
  return body;
}

/**
 * An error answer without a body (any HEAD error, and 304 Not Modified): the SDK cannot read a
 * code, so it names the error 'NotFound' for a 404 and 'Unknown' otherwise; the status and the
 * x-amz-request-id header are what the server controls.
 */
export async function expectBodilessError(p: Promise<unknown>, status: number): Promise<SdkError> {
  return expectS3Error(p, status === 404 ? 'NotFound' : 'Unknown', status);
}

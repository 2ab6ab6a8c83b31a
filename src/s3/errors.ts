/**
 * The one S3 error table (STYLE.md). Codes, statuses and messages follow the AWS S3 API
 * reference ("Error responses"). Domain code returns a reason; `s3Error()` turns it into the
 * error AWS would send; anything unknown becomes InternalError with the request id logged.
 */
export const s3ErrorTable = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: { status: 400, message: 'Error parsing the X-Amz-Credential parameter.' },
  BadDigest: { status: 400, message: 'The Content-MD5 or checksum value that you specified did not match what the server received.' },
  BucketAlreadyExists: { status: 409, message: 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.' },
  BucketAlreadyOwnedByYou: { status: 409, message: 'Your previous request to create the named bucket succeeded and you already own it.' },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  ConditionalRequestConflict: { status: 409, message: 'A conflicting conditional operation is currently in progress against this resource.' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  IncompleteBody: { status: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidDigest: { status: 400, message: 'The Content-MD5 or checksum value that you specified is not valid.' },
  InvalidPart: { status: 400, message: 'One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part\'s entity tag.' },
  InvalidPartOrder: { status: 400, message: 'The list of parts was not in ascending order. The parts list must be specified in order by part number.' },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { status: 400, message: 'Your key is too long' },
  MalformedXML: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MetadataTooLarge: { status: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingSecurityHeader: { status: 400, message: 'Your request is missing a required header.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchUpload: { status: 404, message: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.' },
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
  NotImplemented: { status: 501, message: 'A header you provided implies functionality that is not implemented.' },
  NotModified: { status: 304, message: 'Not Modified' },
  PreconditionFailed: { status: 412, message: 'At least one of the pre-conditions you specified did not hold' },
  RequestTimeTooSkewed: { status: 403, message: "The difference between the request time and the server's time is too large." },
  ServiceUnavailable: { status: 503, message: 'Please reduce your request rate.' },
  SignatureDoesNotMatch: { status: 403, message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  XAmzContentSHA256Mismatch: { status: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." },
} as const satisfies Record<string, { status: number; message: string }>;

export type S3ErrorCode = keyof typeof s3ErrorTable;

/** An S3 error to send: code from the table, an optional more specific message, extra XML fields. */
export class S3Error extends Error {
  override name = 'S3Error';
  readonly status: number;
  constructor(
    readonly code: S3ErrorCode,
    message?: string,
    readonly extra: Readonly<Record<string, string>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message ?? s3ErrorTable[code].message);
    this.status = s3ErrorTable[code].status;
  }
}

export function s3Error(
  code: S3ErrorCode,
  message?: string,
  extra?: Record<string, string>,
  headers?: Record<string, string>,
): S3Error {
  return new S3Error(code, message, extra ?? {}, headers ?? {});
}

export function isS3ErrorCode(code: string): code is S3ErrorCode {
  return Object.prototype.hasOwnProperty.call(s3ErrorTable, code);
}

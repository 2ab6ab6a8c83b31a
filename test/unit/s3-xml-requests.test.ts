import { describe, expect, it } from 'vitest';
import { limits } from '../../src/lib/limits.ts';
import { S3Error } from '../../src/s3/errors.ts';
import {
  parseCompleteMultipartUpload,
  parseCreateBucketConfiguration,
  parseDeleteRequest,
  parseVersioningConfiguration,
} from '../../src/s3/xml/requests.ts';
import { readXmlDocument } from '../../src/s3/xml/read.ts';
import { escapeXml } from '../../src/s3/xml/write.ts';

const ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const prolog = '<?xml version="1.0" encoding="UTF-8"?>';

function expectMalformed(parse: () => unknown): void {
  let thrown: unknown;
  try {
    parse();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(S3Error);
  expect((thrown as S3Error).code).toBe('MalformedXML');
  expect((thrown as S3Error).status).toBe(400);
}

function deleteBody(objects: string, extra = ''): string {
  return `${prolog}<Delete ${ns}>${extra}${objects}</Delete>`;
}

describe('parseCreateBucketConfiguration', () => {
  it.each(['', '   \r\n\t', '\ufeff'])('given the empty body %j then no location constraint', (body) => {
    expect(parseCreateBucketConfiguration(body)).toEqual({ locationConstraint: undefined });
    expect(parseCreateBucketConfiguration(Buffer.from(body))).toEqual({ locationConstraint: undefined });
  });

  it('given a LocationConstraint then it is read, trimmed', () => {
    const body = `${prolog}<CreateBucketConfiguration ${ns}>\n  <LocationConstraint> eu-west-1 </LocationConstraint>\n</CreateBucketConfiguration>`;
    expect(parseCreateBucketConfiguration(body)).toEqual({ locationConstraint: 'eu-west-1' });
  });

  it('given an empty element or none then no location constraint', () => {
    expect(parseCreateBucketConfiguration(`<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>`)).toEqual({ locationConstraint: undefined });
    expect(parseCreateBucketConfiguration(`<CreateBucketConfiguration ${ns}/>`)).toEqual({ locationConstraint: undefined });
  });

  it.each([
    '<Other/>',
    '<CreateBucketConfiguration>',
    'not xml',
    '<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint><LocationConstraint>b</LocationConstraint></CreateBucketConfiguration>',
  ])('given %s then MalformedXML', (body) => {
    expectMalformed(() => parseCreateBucketConfiguration(body));
  });
});

describe('parseDeleteRequest', () => {
  it('given objects with versions and Quiet then all are read in order', () => {
    const body = deleteBody(
      '<Object><Key>a</Key></Object>\n<Object><Key>b</Key><VersionId>v1</VersionId></Object>',
      '<Quiet>true</Quiet>',
    );
    expect(parseDeleteRequest(body)).toEqual({
      quiet: true,
      objects: [
        { key: 'a', versionId: undefined, etag: undefined, lastModifiedTime: undefined, size: undefined },
        { key: 'b', versionId: 'v1', etag: undefined, lastModifiedTime: undefined, size: undefined },
      ],
    });
  });

  it.each([
    [' leading and trailing ', ' leading and trailing '],
    ['a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos;', `a & b <c> "q" 's'`],
    ['&#65;&#x42;&#x1F642;', 'AB🙂'],
    ['line&#13;&#10;end', 'line\r\nend'],
    ['raw\r\nline', 'raw\nline'],
    ['raw\rcr', 'raw\ncr'],
    ['<![CDATA[x<y&amp;z]]>', 'x<y&amp;z'],
    ['pre<![CDATA[ mid ]]>post', 'pre mid post'],
    ['0012', '0012'],
    ['1e5', '1e5'],
    ['true', 'true'],
    ['漢字/é', '漢字/é'],
    ['a<!-- comment -->b', 'ab'],
    ['', ''],
    ['   ', '   '],
    ['\n', '\n'],
  ])('given the Key %j then it is kept exactly: %j', (xmlKey, key) => {
    const result = parseDeleteRequest(deleteBody(`<Object><Key>${xmlKey}</Key></Object>`));
    expect(result.objects.map((o) => o.key)).toEqual([key]);
  });

  it('given any key escaped by our writer then it parses back to itself', () => {
    const keys = [' spaced ', 'a&b<c>"d\'e', 'tab\tand\r\nnewline', '漢字🙂', '%2F+?#'];
    const body = deleteBody(keys.map((key) => `<Object><Key>${escapeXml(key)}</Key></Object>`).join(''));
    expect(parseDeleteRequest(body).objects.map((o) => o.key)).toEqual(keys);
  });

  it('given a self-closing Key then the key is empty', () => {
    expect(parseDeleteRequest(deleteBody('<Object><Key/></Object>')).objects[0]?.key).toBe('');
  });

  it('given the conditional fields then they are read', () => {
    const body = deleteBody('<Object><Key>k</Key><ETag>"e"</ETag><LastModifiedTime>2024-01-01T00:00:00Z</LastModifiedTime><Size> 42 </Size></Object>');
    expect(parseDeleteRequest(body).objects[0]).toEqual({
      key: 'k', versionId: undefined, etag: '"e"', lastModifiedTime: '2024-01-01T00:00:00Z', size: 42,
    });
  });

  it.each([
    ['<Quiet>false</Quiet>', false],
    ['<Quiet> 1 </Quiet>', true],
    ['<Quiet>0</Quiet>', false],
    ['', false],
  ])('given %s then quiet is %s', (quiet, expected) => {
    expect(parseDeleteRequest(deleteBody('<Object><Key>k</Key></Object>', quiet)).quiet).toBe(expected);
  });

  it('given a namespace prefix and a Buffer body then it is read like any other', () => {
    const body = Buffer.from('<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Object><s3:Key>k é</s3:Key></s3:Object></s3:Delete>');
    expect(parseDeleteRequest(body).objects[0]?.key).toBe('k é');
  });

  it('given exactly the most objects allowed then they are all read', () => {
    const objects = '<Object><Key>k</Key></Object>'.repeat(limits.deleteObjectsKeysMax);
    expect(parseDeleteRequest(deleteBody(objects)).objects).toHaveLength(limits.deleteObjectsKeysMax);
  });

  it.each([
    ['no objects', deleteBody('')],
    ['too many objects', deleteBody('<Object><Key>k</Key></Object>'.repeat(limits.deleteObjectsKeysMax + 1))],
    ['an object without a key', deleteBody('<Object><VersionId>v</VersionId></Object>')],
    ['an object with two keys', deleteBody('<Object><Key>a</Key><Key>b</Key></Object>')],
    ['a bad Quiet', deleteBody('<Object><Key>k</Key></Object>', '<Quiet>yes</Quiet>')],
    ['a bad Size', deleteBody('<Object><Key>k</Key><Size>-1</Size></Object>')],
    ['the wrong root', '<Remove><Object><Key>k</Key></Object></Remove>'],
    ['an unclosed tag', '<Delete><Object><Key>k</Key></Delete>'],
    ['a bare ampersand', deleteBody('<Object><Key>a & b</Key></Object>')],
    ['an unknown entity', deleteBody('<Object><Key>&nbsp;</Key></Object>')],
    ['a reference to a forbidden character', deleteBody('<Object><Key>&#1;</Key></Object>')],
    ['a raw forbidden character', deleteBody('<Object><Key>a\u0001b</Key></Object>')],
    ['a DOCTYPE', `${prolog}<!DOCTYPE Delete [<!ENTITY x "boom">]><Delete><Object><Key>&x;</Key></Object></Delete>`],
    ['an external entity', `<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>`],
    ['two roots', '<Delete><Object><Key>k</Key></Object></Delete><Delete/>'],
    ['an empty body', ''],
    ['invalid UTF-8', Buffer.from([0x3c, 0x44, 0x3e, 0xff, 0x3c, 0x2f, 0x44, 0x3e])],
    ['a prototype-polluting tag', deleteBody('<__proto__><Key>k</Key></__proto__>')],
  ])('given %s then MalformedXML', (_name, body) => {
    expectMalformed(() => parseDeleteRequest(body));
  });
});

describe('parseVersioningConfiguration', () => {
  it.each([
    ['<Status>Enabled</Status>', { status: 'Enabled', mfaDelete: undefined }],
    ['<Status> Suspended </Status><MfaDelete>Disabled</MfaDelete>', { status: 'Suspended', mfaDelete: 'Disabled' }],
    ['', { status: undefined, mfaDelete: undefined }],
  ])('given %s then it is read', (inner, expected) => {
    expect(parseVersioningConfiguration(`<VersioningConfiguration ${ns}>${inner}</VersioningConfiguration>`)).toEqual(expected);
  });

  it.each(['<Status>enabled</Status>', '<Status>On</Status>', '<MfaDelete>Yes</MfaDelete>'])('given %s then MalformedXML', (inner) => {
    expectMalformed(() => parseVersioningConfiguration(`<VersioningConfiguration>${inner}</VersioningConfiguration>`));
  });
});

describe('parseCompleteMultipartUpload', () => {
  it('given parts with ETags and checksums then they are read in order, ETags as sent', () => {
    const body = `${prolog}<CompleteMultipartUpload ${ns}>
      <Part><PartNumber>1</PartNumber><ETag>"aaa"</ETag></Part>
      <Part><ETag>&quot;bbb&quot;</ETag><PartNumber> 2 </PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
    </CompleteMultipartUpload>`;
    expect(parseCompleteMultipartUpload(body)).toEqual({
      parts: [
        { partNumber: 1, etag: '"aaa"', checksums: {} },
        { partNumber: 2, etag: '"bbb"', checksums: { ChecksumCRC32: 'AAAAAA==' } },
      ],
    });
  });

  it('given out-of-order or out-of-range part numbers then they are passed on for the handler to judge', () => {
    const body = '<CompleteMultipartUpload><Part><PartNumber>3</PartNumber><ETag>c</ETag></Part><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part><Part><PartNumber>10001</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>';
    expect(parseCompleteMultipartUpload(body).parts.map((p) => p.partNumber)).toEqual([3, 0, 10001]);
  });

  it.each([
    ['no parts', '<CompleteMultipartUpload></CompleteMultipartUpload>'],
    ['a part without an ETag', '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>'],
    ['a part without a number', '<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>'],
    ['a non-numeric part number', '<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>'],
    ['a negative part number', '<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>'],
    ['a fractional part number', '<CompleteMultipartUpload><Part><PartNumber>1.5</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>'],
    ['the wrong root', '<CompletedMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></CompletedMultipartUpload>'],
    ['too many parts', `<CompleteMultipartUpload>${'<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>'.repeat(limits.multipartPartsMax + 1)}</CompleteMultipartUpload>`],
  ])('given %s then MalformedXML', (_name, body) => {
    expectMalformed(() => parseCompleteMultipartUpload(body));
  });
});

describe('readXmlDocument', () => {
  it('given attributes and comments then they are ignored and element text is kept', () => {
    const root = readXmlDocument('<!-- c --><A x="1"><B y="2"> t </B><!-- d --></A>');
    expect(root).toEqual({ name: 'A', children: [{ name: 'B', children: [], text: ' t ' }], text: '' });
  });

  it('given deeply nested elements past the parser limit then MalformedXML', () => {
    expectMalformed(() => readXmlDocument(`${'<a>'.repeat(200)}${'</a>'.repeat(200)}`));
  });
});

import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/lib/assert.ts';
import { escapeXml, quoteEtag, s3UrlEncode, s3Xmlns, xmlProlog, XmlWriter } from '../../src/s3/xml/write.ts';

const reader = new XMLParser({ htmlEntities: true, parseTagValue: false, trimValues: false, ignoreAttributes: false });

describe('escapeXml', () => {
  it('given the five XML specials when escaped then each becomes its entity', () => {
    expect(escapeXml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
  });

  it('given control characters when escaped then each becomes a character reference', () => {
    expect(escapeXml('a\rb\nc\td\u0000e\u001fg\u007fh\u0085i\u2028')).toBe(
      'a&#xD;b&#xA;c&#x9;d&#x0;e&#x1F;g&#x7F;h&#x85;i&#x2028;',
    );
  });

  it('given unicode and ordinary punctuation when escaped then they are untouched', () => {
    expect(escapeXml('漢字 🙂 é/+%?#=')).toBe('漢字 🙂 é/+%?#=');
  });

  it('given escaped text when parsed back by fast-xml-parser then the original comes back', () => {
    const original = ` lead & <tag> "q" 'a' \r\n\t漢 `;
    const parsed = reader.parse(`<k>${escapeXml(original)}</k>`) as { k: string };
    expect(parsed.k).toBe(original);
  });
});

describe('s3UrlEncode', () => {
  it.each([
    ['a b', 'a%20b'],
    ['a+b', 'a%2Bb'],
    ['100%.csv', '100%25.csv'],
    ['dir/sub/file', 'dir/sub/file'],
    ['한글/x.txt', '%ED%95%9C%EA%B8%80/x.txt'],
    ["a!b'c(d)e*f", 'a%21b%27c%28d%29e%2Af'],
    ['A-Z_a.z~09', 'A-Z_a.z~09'],
    ['q?h#&=;:@,$', 'q%3Fh%23%26%3D%3B%3A%40%2C%24'],
    ['\u0001\r\n', '%01%0D%0A'],
  ])('given %j when encoded then %s', (raw, encoded) => {
    expect(s3UrlEncode(raw)).toBe(encoded);
    expect(decodeURIComponent(s3UrlEncode(raw))).toBe(raw);
  });
});

describe('quoteEtag', () => {
  it('given bare or quoted ETags when quoted then exactly one pair of quotes', () => {
    expect(quoteEtag('abc')).toBe('"abc"');
    expect(quoteEtag('"abc"')).toBe('"abc"');
    expect(quoteEtag('abc-2')).toBe('"abc-2"');
  });
});

describe('XmlWriter', () => {
  it('given nested elements when written then a prolog and balanced tags', () => {
    const xml = new XmlWriter()
      .open('Root', { xmlns: s3Xmlns })
      .leaf('Text', 'a<b')
      .leaf('Number', 42)
      .leaf('Flag', false)
      .leaf('Empty', '')
      .optionalLeaf('Missing', undefined)
      .open('Child')
      .text('t&')
      .close('Child')
      .close('Root')
      .done();
    expect(xml).toBe(
      `${xmlProlog}<Root xmlns="${s3Xmlns}"><Text>a&lt;b</Text><Number>42</Number><Flag>false</Flag>` +
        '<Empty></Empty><Child>t&amp;</Child></Root>',
    );
  });

  it('given an element left open when done then it is a programmer error', () => {
    expect(() => new XmlWriter().open('A').done()).toThrow(AssertionError);
  });

  it('given a close of the wrong element then it is a programmer error', () => {
    expect(() => new XmlWriter().open('A').open('B').close('A')).toThrow(AssertionError);
  });

  it('given an invalid element name or number then it is a programmer error', () => {
    expect(() => new XmlWriter().leaf('a b', 'x')).toThrow(AssertionError);
    expect(() => new XmlWriter().leaf('<x', 'x')).toThrow(AssertionError);
    expect(() => new XmlWriter().open('A').leaf('N', Number.NaN)).toThrow(AssertionError);
  });
});

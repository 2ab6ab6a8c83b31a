/**
 * A tiny XML writer for S3 response bodies: elements, escaped text, nothing else.
 *
 * Text escapes the five XML specials and writes every control character (C0, DEL, C1, and the
 * U+2028/U+2029 line separators) as a character reference. Carriage returns and line feeds must
 * be references too: XML parsers fold a raw CR or CRLF into LF (the AWS SDK's parser does this
 * first thing), which would change a key that holds them.
 */
import { assert } from '../../lib/assert.ts';

export const xmlProlog = '<?xml version="1.0" encoding="UTF-8"?>';
export const s3Xmlns = 'http://s3.amazonaws.com/doc/2006-03-01/';

const escapedChars = /[&<>"'\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** The same class without `g`: `test` keeps no state between calls. */
const anyEscapedChar = /[&<>"'\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const namedEscapes: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function escapeXml(text: string): string {
  // Most text needs nothing: testing first avoids the replace machinery (a listing escapes
  // several thousand strings a page).
  if (!anyEscapedChar.test(text)) return text;
  return text.replace(escapedChars, (ch) => namedEscapes[ch] ?? `&#x${ch.charCodeAt(0).toString(16).toUpperCase()};`);
}

/**
 * `encoding-type=url`: every UTF-8 byte except the RFC 3986 unreserved characters and '/' as
 * %XX. AWS itself writes a space as '+' (form encoding); we write `%20`, which every decoder
 * clients use reads as a space (decodeURIComponent, Python's unquote_plus, Java's URLDecoder, Go's
 * QueryUnescape), whereas '+' is read as a plus by decodeURIComponent. A '+' in a key is `%2B`
 * either way, so no client can confuse the two.
 */
export function s3UrlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');
}

/** The ETag as S3 writes it in XML and headers: in double quotes, whether or not it came quoted. */
/** Whether an ETag already carries the quotes S3 puts around it. */
export function isQuotedEtag(etag: string): boolean {
  return etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"');
}

export function quoteEtag(etag: string): string {
  return isQuotedEtag(etag) ? etag : `"${etag}"`;
}

export type XmlScalar = string | number | bigint | boolean;

const elementName = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Writes a document element by element; `done()` checks every element was closed. Assertion
 * messages are built only when an assertion fails (a listing writes thousands of elements).
 */
export class XmlWriter {
  readonly #parts: string[] = [xmlProlog];
  readonly #open: string[] = [];

  /** Opens an element; give `{ xmlns: s3Xmlns }` on a root element of the S3 namespace. */
  open(name: string, attributes: Readonly<Record<string, string>> = {}): this {
    if (!elementName.test(name)) assert(false, `bad element name: ${name}`);
    let tag = `<${name}`;
    for (const [attribute, value] of Object.entries(attributes)) {
      assert(elementName.test(attribute) || attribute === 'xmlns', `bad attribute name: ${attribute}`);
      tag += ` ${attribute}="${escapeXml(value)}"`;
    }
    this.#parts.push(`${tag}>`);
    this.#open.push(name);
    return this;
  }

  /** Closes the innermost open element, which must be `name` (it keeps builders readable). */
  close(name: string): this {
    const innermost = this.#open.pop();
    if (innermost !== name) assert(false, `closing ${name} but ${String(innermost)} is open`);
    this.#parts.push(`</${name}>`);
    return this;
  }

  /** `<name>text</name>`; an empty string gives `<name></name>`, as S3 writes it. */
  leaf(name: string, value: XmlScalar): this {
    if (!elementName.test(name)) assert(false, `bad element name: ${name}`);
    this.#parts.push(`<${name}>${escapeXml(scalarText(value))}</${name}>`);
    return this;
  }

  /** Escaped text inside the innermost open element. */
  text(value: XmlScalar): this {
    assert(this.#open.length > 0, 'text outside any element');
    this.#parts.push(escapeXml(scalarText(value)));
    return this;
  }

  /**
   * Markup built elsewhere in this folder from escaped text (listing entries are built as one
   * string each). It must be well formed and balanced: nothing checks it here.
   */
  fragment(markup: string): this {
    assert(this.#open.length > 0, 'fragment outside any element');
    this.#parts.push(markup);
    return this;
  }

  /** A leaf, or nothing when the value is undefined. */
  optionalLeaf(name: string, value: XmlScalar | undefined): this {
    return value === undefined ? this : this.leaf(name, value);
  }

  done(): string {
    assert(this.#open.length === 0, `unclosed elements: ${this.#open.join(', ')}`);
    return this.#parts.join('');
  }
}

function scalarText(value: XmlScalar): string {
  if (typeof value === 'number' && !Number.isFinite(value)) assert(false, `not a finite number: ${value}`);
  return String(value);
}

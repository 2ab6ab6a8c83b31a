/**
 * Reads an XML request body into a plain element tree, safely and without changing any text.
 *
 * - No DTD: a body with a DOCTYPE is MalformedXML, so no entity is ever defined or expanded
 *   (fast-xml-parser's own entity handling is off; this file decodes references itself).
 * - Text is kept exactly: no trimming, no number parsing; CDATA is literal. Only the five XML
 *   entities and character references are decoded; any other reference is MalformedXML.
 * - Line ends are normalized as XML requires (CRLF and CR become LF), which is why S3 asks
 *   clients to send a CR in a key as `&#13;`.
 * - Attributes and namespace prefixes are ignored, as S3 ignores them.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { s3Error, type S3Error } from '../errors.ts';

export interface XmlElement {
  readonly name: string;
  readonly children: readonly XmlElement[];
  /** The element's own text and CDATA, decoded, in document order. */
  readonly text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  commentPropName: '#comment',
});

/** Characters XML 1.0 forbids anywhere in a document, raw or as a reference. */
const forbiddenChars = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function malformedXml(): S3Error {
  return s3Error('MalformedXML');
}

/** The document's root element; throws S3Error MalformedXML for anything that is not well-formed. */
export function readXmlDocument(body: string | Uint8Array): XmlElement {
  let text = typeof body === 'string' ? body : decodeUtf8(body);
  if (text.startsWith('\ufeff')) text = text.slice(1);
  if (/<!DOCTYPE/i.test(text) || forbiddenChars.test(text)) throw malformedXml();
  text = text.replace(/\r\n?/g, '\n');
  if (XMLValidator.validate(text) !== true) throw malformedXml();
  let nodes: unknown;
  try {
    nodes = parser.parse(text);
  } catch {
    throw malformedXml();
  }
  const roots = toElements(nodes).filter((node): node is XmlElement => typeof node !== 'string');
  const [root] = roots;
  if (root === undefined || roots.length !== 1) throw malformedXml();
  return root;
}

/** The one child element called `name`, or undefined; two of them is MalformedXML. */
export function optionalChild(element: XmlElement, name: string): XmlElement | undefined {
  const found = element.children.filter((child) => child.name === name);
  if (found.length > 1) throw malformedXml();
  return found[0];
}

export function requiredChild(element: XmlElement, name: string): XmlElement {
  const child = optionalChild(element, name);
  if (child === undefined) throw malformedXml();
  return child;
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformedXml();
  }
}

/** fast-xml-parser's ordered output → elements and decoded text, comments dropped. */
function toElements(nodes: unknown): (XmlElement | string)[] {
  if (!Array.isArray(nodes)) throw malformedXml();
  const out: (XmlElement | string)[] = [];
  for (const node of nodes as unknown[]) {
    if (typeof node !== 'object' || node === null) throw malformedXml();
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined) throw malformedXml();
    const value: unknown = (node as Record<string, unknown>)[name];
    if (name === '#comment') continue;
    if (name === '#text') {
      out.push(decodeReferences(String(value)));
    } else if (name === '#cdata') {
      out.push(cdataText(value));
    } else {
      const parts = toElements(value);
      const children = parts.filter((part): part is XmlElement => typeof part !== 'string');
      const text = parts.filter((part): part is string => typeof part === 'string').join('');
      out.push({ name, children, text });
    }
  }
  return out;
}

function cdataText(value: unknown): string {
  if (!Array.isArray(value)) throw malformedXml();
  return (value as unknown[])
    .map((part) => String((part as Record<string, unknown> | null)?.['#text'] ?? ''))
    .join('');
}

const predefinedEntities: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

function decodeReferences(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9._-]*);|&/g, (_match, ref: string | undefined) => {
    if (ref === undefined) throw malformedXml();
    if (!ref.startsWith('#')) {
      const named = predefinedEntities[ref];
      if (named === undefined) throw malformedXml();
      return named;
    }
    const codePoint = ref.startsWith('#x') ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (!isXmlChar(codePoint)) throw malformedXml();
    return String.fromCodePoint(codePoint);
  });
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}


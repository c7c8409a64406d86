import { XMLBuilder } from 'fast-xml-parser';

/** A UDIL answer: every output parameter is a string or an array (spec §3.5.3 note). */
export type UdilValue = string | UdilValue[] | { [key: string]: UdilValue };
export type UdilBody = Record<string, UdilValue>;

const builder = new XMLBuilder({ format: true, indentBy: '  ', suppressEmptyNode: false });

function toXmlTree(value: UdilValue): unknown {
  if (Array.isArray(value)) return { element: value.map(toXmlTree) };
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toXmlTree(v)]));
  return value;
}

/** Renders `<?xml …?><root>…</root>` with array items as `<element>`, as in the examples of chapter 4. */
export function renderUdilXml(body: UdilBody): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ root: toXmlTree(body) })}`;
}

/** True when the client asked for XML (Accept: application/xml or text/xml) rather than JSON. */
export function wantsXml(accept: string | undefined): boolean {
  if (!accept) return false;
  const xml = /(application|text)\/xml/i.exec(accept);
  const json = /application\/json/i.exec(accept);
  return Boolean(xml) && (!json || (xml?.index ?? 0) < (json.index ?? 0));
}

/** The text of a JSON array given as pieces, each one or more of its items' texts joined by commas. */
export function jsonArrayText(pieces: readonly string[]): string {
  return `[${pieces.join(',')}]`;
}

/** The parts of {@link jsonArrayText}'s text, in order. */
function arrayParts(pieces: readonly string[]): string[] {
  const parts = ['['];
  // The commas as parts of their own: a piece is written as the string it came as, not copied into another.
  pieces.forEach((piece, index) => (index === 0 ? parts.push(piece) : parts.push(',', piece)));
  parts.push(']');
  return parts;
}

/**
 * The UTF-8 bytes of the concatenation of `parts`, written part by part into one buffer: a large text is
 * never one string (V8 makes strings over about 128 KB in its large-object space, several times costlier,
 * and Buffer.from of such a string costs as much again).
 */
function utf8Bytes(parts: readonly string[]): Buffer {
  const lengths = parts.map((part) => Buffer.byteLength(part));
  const bytes = Buffer.allocUnsafe(lengths.reduce((sum, length) => sum + length, 0));
  let offset = 0;
  parts.forEach((part, index) => {
    bytes.write(part, offset);
    offset += lengths[index];
  });
  return bytes;
}

/** {@link jsonArrayText} as UTF-8 bytes, without making that text. */
export function jsonArrayBytes(pieces: readonly string[]): Buffer {
  return utf8Bytes(arrayParts(pieces));
}

/**
 * A UDIL answer one of whose values is already JSON text (the rows of a read, rendered by the database or
 * serialised once): {@link json} is `JSON.stringify` of the answer without parsing that text again. The value
 * may be an array given as pieces (see {@link UdilJsonAnswer.ofArray}), which {@link jsonParts} hands on
 * without ever joining them into one string.
 */
export class UdilJsonAnswer {
  /** Texts whose concatenation is the JSON of {@link key}'s value. */
  private readonly valueParts: readonly string[];

  constructor(
    /** The answer, in its keys' order; the value of {@link key} is replaced by `valueJson`. */
    readonly body: UdilBody,
    readonly key: string,
    valueJson: string | readonly string[],
  ) {
    this.valueParts = typeof valueJson === 'string' ? [valueJson] : valueJson;
  }

  /** An answer whose {@link key} holds the array `[` + `pieces` joined by commas + `]` (jsonArrayText). */
  static ofArray(body: UdilBody, key: string, pieces: readonly string[]): UdilJsonAnswer {
    return new UdilJsonAnswer(body, key, arrayParts(pieces));
  }

  /**
   * The answer's JSON text as parts, in order, whose concatenation is {@link json}: the pieces of an array
   * value as they came (see {@link UdilJsonAnswer.ofArray}), so a large answer need never be one string.
   */
  jsonParts(): string[] {
    const parts: string[] = [];
    let separator = '{';
    for (const [key, value] of Object.entries(this.body)) {
      parts.push(`${separator}${JSON.stringify(key)}:`);
      if (key === this.key) parts.push(...this.valueParts);
      else parts.push(JSON.stringify(value));
      separator = ',';
    }
    parts.push(separator === '{' ? '{}' : '}');
    return parts;
  }

  /** The answer's JSON text, as JSON.stringify of {@link toBody} gives it. */
  json(): string {
    return this.jsonParts().join('');
  }

  /** The answer as a plain object (for XML). */
  toBody(): UdilBody {
    return { ...this.body, [this.key]: JSON.parse(this.valueParts.join('')) as UdilValue };
  }
}

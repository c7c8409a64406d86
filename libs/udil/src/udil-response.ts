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

/**
 * A UDIL answer one of whose values is already JSON text (the rows of a read, rendered by the database or
 * serialised once): {@link json} is `JSON.stringify` of the answer without parsing that text again.
 */
export class UdilJsonAnswer {
  constructor(
    /** The answer, in its keys' order; the value of {@link key} is replaced by {@link valueJson}. */
    readonly body: UdilBody,
    readonly key: string,
    readonly valueJson: string,
  ) {}

  /** The answer's JSON text, as JSON.stringify of {@link toBody} gives it. */
  json(): string {
    const members = Object.entries(this.body).map(
      ([key, value]) => `${JSON.stringify(key)}:${key === this.key ? this.valueJson : JSON.stringify(value)}`,
    );
    return `{${members.join(',')}}`;
  }

  /** The answer as a plain object (for XML). */
  toBody(): UdilBody {
    return { ...this.body, [this.key]: JSON.parse(this.valueJson) as UdilValue };
  }
}

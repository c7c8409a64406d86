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

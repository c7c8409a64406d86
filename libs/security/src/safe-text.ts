/**
 * The string-safety rule of every API (UDIL, MCS, admin): text that PostgreSQL cannot store (a NUL
 * character) or that is not Unicode at all (an unpaired UTF-16 surrogate, which JSON's \ud800 escapes
 * can produce and which would be stored as U+FFFD, silently changed) is refused with a 400 naming the
 * field, never passed on to the database.
 */

/** Deepest nesting of arrays and objects accepted in a request (the form parser's own limit is 32 too). */
export const MAX_REQUEST_DEPTH = 32;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (code units, no `u` flag). */
export const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNPAIRED_SURROGATES = new RegExp(UNPAIRED_SURROGATE.source, 'g');

/** Why a text may not be accepted, or undefined when it may. */
export function unsafeTextReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters (\\u0000)';
  if (UNPAIRED_SURROGATE.test(text)) return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}

/** The text with unpaired surrogates and NUL characters replaced by U+FFFD (to name or store it safely). */
export function wellFormedText(text: string): string {
  return text.replace(UNPAIRED_SURROGATES, '\uFFFD').replaceAll('\u0000', '\uFFFD');
}

/** A field of a request that breaks the rule, and why. */
export interface UnsafeField {
  /** `global_device_id`, `device_identity[0].dsn`, or the root's name for the value itself. */
  field: string;
  reason: string;
}

function childName(root: string, parent: string | undefined, key: string | number): string {
  if (typeof key === 'number') return `${parent ?? root}[${key}]`;
  return parent === undefined ? key : `${parent}.${key}`;
}

/**
 * The first string (or object key) in `value` that breaks the rule, or the first container nested
 * deeper than `maxDepth`. Fields are named from the root: its own keys by their name, deeper ones by
 * their path. Walked without recursion, so any depth the JSON parser produced is safe to look at.
 */
export function findUnsafeField(
  value: unknown,
  root: string,
  maxDepth = MAX_REQUEST_DEPTH,
): UnsafeField | undefined {
  const pending: { value: unknown; name: string | undefined; depth: number }[] = [
    { value, name: undefined, depth: 0 },
  ];
  while (pending.length > 0) {
    const { value: item, name, depth } = pending.pop()!;
    if (typeof item === 'string') {
      const reason = unsafeTextReason(item);
      if (reason) return { field: name ?? root, reason };
      continue;
    }
    if (item === null || typeof item !== 'object') continue;
    if (depth >= maxDepth)
      return { field: name ?? root, reason: `must not be nested deeper than ${maxDepth} levels` };
    if (Array.isArray(item)) {
      for (let index = item.length - 1; index >= 0; index -= 1)
        pending.push({ value: item[index], name: childName(root, name, index), depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(item as Record<string, unknown>);
    for (const [key] of entries) {
      const reason = unsafeTextReason(key);
      if (reason)
        return { field: childName(root, name, wellFormedText(key)), reason: `(a field name) ${reason}` };
    }
    for (let index = entries.length - 1; index >= 0; index -= 1) {
      const [key, child] = entries[index];
      pending.push({ value: child, name: childName(root, name, key), depth: depth + 1 });
    }
  }
  return undefined;
}

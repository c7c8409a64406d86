/**
 * Text that PostgreSQL cannot store or that no client meant to send: NUL characters (refused by `text` and
 * `jsonb`) and unpaired UTF-16 surrogates (refused by `jsonb`, silently changed to U+FFFD by UTF-8
 * encoding elsewhere). Used by the admin API to refuse such input with a 400 naming the field, and to store
 * whatever it records (the audit log) safely; usable by any other API for the same checks.
 */
import { findUnsafeField, unsafeTextReason, wellFormedText } from '@hes/security';

/** The rule itself is libs/security's (one rule for UDIL, MCS and admin): reused here. */
export { wellFormedText };

/** Why a string cannot be accepted, or null when it can. */
export function unsafeTextProblem(text: string): string | null {
  return unsafeTextReason(text) ?? null;
}

export interface UnsafeText {
  /** Where it is: `name`, `devices[2].msn`, or the prefix given for the root. */
  path: string;
  problem: string;
}

/**
 * The first string (or object key) of `value` that the rule refuses, with its path, or a value nested
 * deeper than 32 levels; null when there is none. `root` names the value itself when it is a string
 * (`body`, a parameter name). The walk is libs/security's findUnsafeField (no recursion, any depth).
 */
export function findUnsafeText(value: unknown, root = ''): UnsafeText | null {
  const found = findUnsafeField(value, root || 'value');
  return found ? { path: found.field, problem: found.reason } : null;
}

/**
 * A string that can be stored anywhere: unpaired surrogates and NUL characters become U+FFFD, and a
 * string longer than `maxLength` is cut with a marker saying how long it was (the result is at most
 * `maxLength` characters, never splitting a surrogate pair).
 */
export function storableText(text: string, maxLength: number): string {
  const clean = wellFormedText(text);
  if (clean.length <= maxLength) return clean;
  const long = `…[truncated, ${text.length} characters]`;
  // Too small a room for the whole marker: an ellipsis still says the text was cut.
  const marker = long.length * 2 <= maxLength ? long : '…';
  // A cut between the halves of a pair leaves a lone high surrogate: drop it.
  const head = clean.slice(0, maxLength - marker.length);
  return (/[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head) + marker;
}

export interface StorableLimits {
  /** Longest string kept whole (object keys are cut at 100 characters). */
  maxStringLength: number;
  /** Items of an array, and fields of an object, kept. */
  maxItems: number;
  /** Nesting kept; deeper values are replaced by a marker. */
  maxDepth: number;
}

/**
 * A JSON value that PostgreSQL `jsonb` accepts and that stays small: every string made storable with
 * `storableText`, arrays and objects cut to `maxItems` (with a marker entry), nesting to `maxDepth`.
 */
export function storableJson(value: unknown, limits: StorableLimits, depth = 0): unknown {
  if (typeof value === 'string') return storableText(value, limits.maxStringLength);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
  }
  if (depth >= limits.maxDepth) return '[nested too deep: left out]';
  if (Array.isArray(value)) {
    const kept = value.slice(0, limits.maxItems).map((item) => storableJson(item, limits, depth + 1));
    if (value.length > limits.maxItems) kept.push(`[${value.length - limits.maxItems} more items left out]`);
    return kept;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const kept: Record<string, unknown> = {};
  for (const [key, item] of entries.slice(0, limits.maxItems))
    kept[storableText(key, 100)] = storableJson(item, limits, depth + 1);
  if (entries.length > limits.maxItems)
    kept['[left out]'] = `${entries.length - limits.maxItems} more fields`;
  return kept;
}

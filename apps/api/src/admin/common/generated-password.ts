import { randomBytes } from 'node:crypto';

/** A password the server generates for a client account (answered once): 144 random bits, URL-safe. */
export function generatedPassword(): string {
  return randomBytes(18).toString('base64url');
}

import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * The MPCB OCEMS Open API encryption ("Instructions" of the Data Upload section): AES-256-CBC with a
 * 32-byte key, an IV of 16 zero bytes, the plaintext padded with '#' to a multiple of the 32-byte "block
 * size", Base64 output. As in the public clients of this board family the key is the ASCII bytes of the
 * first 32 characters of the site key string, and the padding always adds 1 to 32 '#' characters
 * (`s + (32 - len(s) % 32) * '#'`), so a plaintext already 32-aligned gets a whole block of '#'.
 */

export const MPCB_PADDING_CHARACTER = '#';
export const MPCB_PADDING_BLOCK = 32;
export const MPCB_KEY_LENGTH = 32;
export const MPCB_ZERO_IV = Buffer.alloc(16, 0);
/** Base64 of the 16 zero-byte IV: the suffix of the PKCS#7 Authorization encoding. */
export const MPCB_ZERO_IV_BASE64 = MPCB_ZERO_IV.toString('base64');

/** How the Authorization digest is encrypted, chosen per site ('#' by default). */
export type MpcbAuthorizationEncoding = 'hash' | 'pkcs7';
export const MPCB_AUTHORIZATION_ENCODINGS: readonly MpcbAuthorizationEncoding[] = ['hash', 'pkcs7'];

export class MpcbCryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MpcbCryptoError';
  }
}

/** The AES key: ASCII bytes of the first 32 characters of the site key. */
export function siteKeyBytes(siteKey: string): Buffer {
  if (siteKey.length < MPCB_KEY_LENGTH)
    throw new MpcbCryptoError(
      `the site key must have at least ${MPCB_KEY_LENGTH} characters (it has ${siteKey.length})`,
    );
  const head = siteKey.slice(0, MPCB_KEY_LENGTH);
  if (!/^[\x20-\x7e]+$/.test(head))
    throw new MpcbCryptoError('the first 32 characters of the site key must be printable ASCII');
  return Buffer.from(head, 'ascii');
}

/** Pads with '#' to a multiple of 32 bytes, always adding at least one '#'. */
export function padWithHash(plaintext: Buffer): Buffer {
  const count = MPCB_PADDING_BLOCK - (plaintext.length % MPCB_PADDING_BLOCK);
  return Buffer.concat([plaintext, Buffer.alloc(count, MPCB_PADDING_CHARACTER)]);
}

/** AES-256-CBC, zero IV, '#' padding, Base64: the data file and the default Authorization digest. */
export function encryptHashPadded(plaintext: string, siteKey: string): string {
  const cipher = createCipheriv('aes-256-cbc', siteKeyBytes(siteKey), MPCB_ZERO_IV);
  cipher.setAutoPadding(false);
  const padded = padWithHash(Buffer.from(plaintext, 'utf8'));
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

/** Reverses encryptHashPadded: the trailing '#' characters are removed. */
export function decryptHashPadded(base64: string, siteKey: string): string {
  const ciphertext = strictBase64(base64);
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0)
    throw new MpcbCryptoError(`ciphertext of ${ciphertext.length} bytes is not a whole number of AES blocks`);
  const decipher = createDecipheriv('aes-256-cbc', siteKeyBytes(siteKey), MPCB_ZERO_IV);
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  let end = padded.length;
  while (end > 0 && padded[end - 1] === MPCB_PADDING_CHARACTER.charCodeAt(0)) end--;
  if (end === padded.length)
    throw new MpcbCryptoError('decrypted text carries no # padding (wrong key or not # padded)');
  return decodeUtf8(padded.subarray(0, end));
}

/** AES-256-CBC, zero IV, PKCS#7 padding, Base64 of the ciphertext followed by the Base64 of the IV. */
export function encryptPkcs7WithIv(plaintext: string, siteKey: string): string {
  const cipher = createCipheriv('aes-256-cbc', siteKeyBytes(siteKey), MPCB_ZERO_IV);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ciphertext.toString('base64') + MPCB_ZERO_IV_BASE64;
}

export function decryptPkcs7WithIv(text: string, siteKey: string): string {
  if (!text.endsWith(MPCB_ZERO_IV_BASE64) || text.length <= MPCB_ZERO_IV_BASE64.length)
    throw new MpcbCryptoError('PKCS#7 digest does not end with the Base64 of the zero IV');
  const ciphertext = strictBase64(text.slice(0, -MPCB_ZERO_IV_BASE64.length));
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0)
    throw new MpcbCryptoError(`ciphertext of ${ciphertext.length} bytes is not a whole number of AES blocks`);
  const decipher = createDecipheriv('aes-256-cbc', siteKeyBytes(siteKey), MPCB_ZERO_IV);
  try {
    return decodeUtf8(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch {
    throw new MpcbCryptoError('bad PKCS#7 padding (wrong key?)');
  }
}

/** The plaintext of the Authorization digest: `<site_id>,<software_version_id>,<timestamp>,<site key>`. */
export function authorizationPlaintext(
  siteId: string,
  softwareVersionId: string,
  timestamp: string,
  siteKey: string,
): string {
  for (const [name, value] of [
    ['site_id', siteId],
    ['software_version_id', softwareVersionId],
    ['timestamp', timestamp],
  ] as const) {
    if (value.length === 0 || value.includes(','))
      throw new MpcbCryptoError(`${name} must be non-empty and contain no comma`);
  }
  return `${siteId},${softwareVersionId},${timestamp},${siteKey}`;
}

/** The value of the Authorization header: `Basic <encrypted digest>`. */
export function authorizationHeader(
  siteId: string,
  softwareVersionId: string,
  timestamp: string,
  siteKey: string,
  encoding: MpcbAuthorizationEncoding = 'hash',
): string {
  const plaintext = authorizationPlaintext(siteId, softwareVersionId, timestamp, siteKey);
  const digest =
    encoding === 'pkcs7' ? encryptPkcs7WithIv(plaintext, siteKey) : encryptHashPadded(plaintext, siteKey);
  return `Basic ${digest}`;
}

export interface AuthorizationDigest {
  siteId: string;
  softwareVersionId: string;
  timestamp: string;
  /** As decrypted: with '#' padding, trailing '#' of the key itself cannot be told from the padding. */
  siteKey: string;
  encoding: MpcbAuthorizationEncoding;
}

/** Decrypts an Authorization header value with a candidate site key; either encoding is recognised. */
export function readAuthorizationHeader(header: string, siteKey: string): AuthorizationDigest {
  const match = /^Basic\s+(\S+)$/.exec(header.trim());
  if (!match) throw new MpcbCryptoError('Authorization must be "Basic <encrypted digest>"');
  const digest = match[1];
  const encoding: MpcbAuthorizationEncoding = digest.endsWith(MPCB_ZERO_IV_BASE64) ? 'pkcs7' : 'hash';
  const plaintext =
    encoding === 'pkcs7' ? decryptPkcs7WithIv(digest, siteKey) : decryptHashPadded(digest, siteKey);
  const first = plaintext.indexOf(',');
  const second = plaintext.indexOf(',', first + 1);
  const third = plaintext.indexOf(',', second + 1);
  if (first < 0 || second < 0 || third < 0)
    throw new MpcbCryptoError('the digest is not site_id,software_version_id,timestamp,key');
  return {
    siteId: plaintext.slice(0, first),
    softwareVersionId: plaintext.slice(first + 1, second),
    timestamp: plaintext.slice(second + 1, third),
    siteKey: plaintext.slice(third + 1),
    encoding,
  };
}

/** Whether the key of a decrypted digest is the site's key (trailing '#' are padding-ambiguous). */
export function digestKeyMatches(digest: AuthorizationDigest, siteKey: string): boolean {
  if (digest.encoding === 'pkcs7') return digest.siteKey === siteKey;
  return digest.siteKey === siteKey.replace(/#+$/, '');
}

function strictBase64(text: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0)
    throw new MpcbCryptoError('not Base64 text');
  return Buffer.from(trimmed, 'base64');
}

function decodeUtf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MpcbCryptoError('decrypted bytes are not UTF-8 text (wrong key?)');
  }
}

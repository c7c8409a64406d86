import {
  MpcbCryptoError,
  authorizationHeader,
  decryptHashPadded,
  decryptPkcs7WithIv,
  digestKeyMatches,
  encryptHashPadded,
  encryptPkcs7WithIv,
  padWithHash,
  readAuthorizationHeader,
  siteKeyBytes,
} from './mpcb-crypto';

/**
 * Vectors computed independently with OpenSSL (key = ASCII of the first 32 characters of the key, IV 0):
 *   K=$(printf '%s' 'c2l0ZV8yMTg4LHZlcl7xLjAs5OjAy###' | xxd -p | tr -d '\n')
 *   # '#' padding to a multiple of 32, then no padding by OpenSSL:
 *   printf '%s##…#' "$PLAIN" | openssl enc -aes-256-cbc -nopad -K $K -iv 00000000000000000000000000000000 | base64 -w0
 *   # PKCS#7 variant: OpenSSL's own padding, then the Base64 of 16 zero bytes appended
 *   printf '%s' "$PLAIN" | openssl enc -aes-256-cbc -K $K -iv 00000000000000000000000000000000 | base64 -w0
 */
const SITE_KEY = 'c2l0ZV8yMTg4LHZlcl7xLjAs5OjAy#####'; // the document's sample key (34 characters)
const AUTH_PLAIN = 'site_1234,ver_1.0,2026-02-12T16:28:13Z,c2l0ZV8yMTg4LHZlcl7xLjAs5OjAy#####';
const AUTH_HASH =
  '7jDWWxT5bjs3yKqeeZs/yhDJNUBO06dKV9vvOWsc8UE39iZwQ7y99oP/FLukdS63Wdx1zE6/VQk9c6eU5KJrmwLIlg8RJfnFCfbWDWDzrXk5uFmotnxQdnxh/IHEVUb5';
const AUTH_PKCS7 =
  '7jDWWxT5bjs3yKqeeZs/yhDJNUBO06dKV9vvOWsc8UE39iZwQ7y99oP/FLukdS63Wdx1zE6/VQk9c6eU5KJrm7a9KHFBN2qyz8xwz6iNfGE=' +
  'AAAAAAAAAAAAAAAAAAAAAA==';
const DATA_PLAIN = 'site_1234,site_1234,Stack1,analyzer_8,parameter_10,PM,15,unit_15,U,15,1770965988,0,0\n';
const DATA_HASH =
  'nTYowHrC7jWGDs85S9W5Rggz9JbIR/jvTL3SyWMYqULVADI6EtzQnqahhMK5VVh04+wf0IIJhCLtOkTCUBSH4Z/wnRhF+mNvWRw+EfkMqpQb4dzU22KtHvLSVZ6SbbQF';
/** 32 characters: the padding adds a whole block of 32 '#'. */
const ALIGNED_PLAIN = '0123456789abcdef0123456789abcdef';
const ALIGNED_HASH =
  'i84mIJaa04z6XsOoyZtkWNPdBT9Nr00aEe5C+EkEBZQml501zKMYXVtD6f56HBASrvBIzf4AIGrKqVMtd/5S5w==';

describe('MPCB encryption', () => {
  it('uses the ASCII bytes of the first 32 characters of the site key', () => {
    expect(siteKeyBytes(SITE_KEY).toString('hex')).toBe(
      '63326c305a5638794d5467344c485a6c636c37784c6a4173354f6a4179232323',
    );
    expect(() => siteKeyBytes('too-short')).toThrow(MpcbCryptoError);
    expect(() => siteKeyBytes('é'.repeat(40))).toThrow(/printable ASCII/);
  });

  it('pads with # to a multiple of 32, adding a whole block when already aligned', () => {
    expect(padWithHash(Buffer.from('abc')).toString()).toBe(`abc${'#'.repeat(29)}`);
    expect(padWithHash(Buffer.from(ALIGNED_PLAIN)).length).toBe(64);
  });

  it('encrypts the Authorization digest of the document sample as OpenSSL does', () => {
    expect(encryptHashPadded(AUTH_PLAIN, SITE_KEY)).toBe(AUTH_HASH);
    expect(authorizationHeader('site_1234', 'ver_1.0', '2026-02-12T16:28:13Z', SITE_KEY)).toBe(
      `Basic ${AUTH_HASH}`,
    );
  });

  it('encrypts the PKCS#7 Authorization variant with the Base64 zero IV appended', () => {
    expect(encryptPkcs7WithIv(AUTH_PLAIN, SITE_KEY)).toBe(AUTH_PKCS7);
    expect(authorizationHeader('site_1234', 'ver_1.0', '2026-02-12T16:28:13Z', SITE_KEY, 'pkcs7')).toBe(
      `Basic ${AUTH_PKCS7}`,
    );
    expect(decryptPkcs7WithIv(AUTH_PKCS7, SITE_KEY)).toBe(AUTH_PLAIN);
  });

  it('encrypts the data line of the document sample and a 32-aligned text as OpenSSL does', () => {
    expect(encryptHashPadded(DATA_PLAIN, SITE_KEY)).toBe(DATA_HASH);
    expect(encryptHashPadded(ALIGNED_PLAIN, SITE_KEY)).toBe(ALIGNED_HASH);
    expect(decryptHashPadded(DATA_HASH, SITE_KEY)).toBe(DATA_PLAIN);
    expect(decryptHashPadded(ALIGNED_HASH, SITE_KEY)).toBe(ALIGNED_PLAIN);
  });

  it('reads both Authorization encodings back and names the fields', () => {
    for (const [header, encoding] of [
      [`Basic ${AUTH_HASH}`, 'hash'],
      [`Basic ${AUTH_PKCS7}`, 'pkcs7'],
    ] as const) {
      const digest = readAuthorizationHeader(header, SITE_KEY);
      expect(digest).toEqual({
        siteId: 'site_1234',
        softwareVersionId: 'ver_1.0',
        timestamp: '2026-02-12T16:28:13Z',
        // '#' padding cannot tell the key's own trailing '#' from padding; PKCS#7 keeps them.
        siteKey: encoding === 'hash' ? 'c2l0ZV8yMTg4LHZlcl7xLjAs5OjAy' : SITE_KEY,
        encoding,
      });
      expect(digestKeyMatches(digest, SITE_KEY)).toBe(true);
      expect(digestKeyMatches(digest, `${SITE_KEY}x`)).toBe(false);
    }
  });

  it('refuses a wrong key, a non-Base64 digest and a missing Basic prefix', () => {
    const otherKey = 'x'.repeat(32);
    expect(() => readAuthorizationHeader(`Basic ${AUTH_HASH}`, otherKey)).toThrow(MpcbCryptoError);
    expect(() => readAuthorizationHeader(`Basic ${AUTH_PKCS7}`, otherKey)).toThrow(MpcbCryptoError);
    expect(() => readAuthorizationHeader('Basic not*base64', SITE_KEY)).toThrow(/Base64/);
    expect(() => readAuthorizationHeader(AUTH_HASH, SITE_KEY)).toThrow(/Basic/);
    expect(() => decryptHashPadded('AAAA', SITE_KEY)).toThrow(/AES blocks/);
  });

  it('refuses digest fields that would break the comma-separated layout', () => {
    expect(() => authorizationHeader('site,1', 'ver_1.0', '2026-02-12T16:28:13Z', SITE_KEY)).toThrow(/comma/);
    expect(() => authorizationHeader('site_1', '', '2026-02-12T16:28:13Z', SITE_KEY)).toThrow(/non-empty/);
  });
});

import { randomBytes } from 'node:crypto';
import { CredentialCipher } from './credential-cipher';

describe('CredentialCipher', () => {
  const cipher = new CredentialCipher(randomBytes(32));

  it('round-trips a password without storing it in clear', () => {
    const stored = cipher.encrypt('Adm1n!pass');
    expect(stored).not.toContain('Adm1n');
    expect(stored.startsWith('v1.')).toBe(true);
    expect(cipher.decrypt(stored)).toBe('Adm1n!pass');
  });

  it('uses a fresh IV for every encryption', () => {
    expect(cipher.encrypt('same')).not.toBe(cipher.encrypt('same'));
  });

  it('refuses a value encrypted with another key or tampered with', () => {
    const stored = cipher.encrypt('secret');
    expect(() => new CredentialCipher(randomBytes(32)).decrypt(stored)).toThrow();
    const parts = stored.split('.');
    parts[3] = Buffer.from('other').toString('base64');
    expect(() => cipher.decrypt(parts.join('.'))).toThrow();
    expect(() => cipher.decrypt('plain-text')).toThrow(/v1 format/);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new CredentialCipher(randomBytes(16))).toThrow(/32-byte/);
  });
});

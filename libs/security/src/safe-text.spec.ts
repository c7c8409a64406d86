import { findUnsafeField, unsafeTextReason } from './safe-text';

describe('the string-safety rule', () => {
  it.each([
    ['plain text', 'meter-1 Läden ✓', undefined],
    ['a paired surrogate (an emoji)', 'meter 😀', undefined],
    ['a NUL', 'a\u0000b', 'must not contain NUL characters (\\u0000)'],
    ['a lone high surrogate', 'a\ud800b', 'must not contain unpaired UTF-16 surrogates'],
    ['a lone high surrogate at the end', 'a\ud83d', 'must not contain unpaired UTF-16 surrogates'],
    ['a lone low surrogate', '\ude00x', 'must not contain unpaired UTF-16 surrogates'],
    ['two high surrogates', '\ud83d\ud83d\ude00', 'must not contain unpaired UTF-16 surrogates'],
  ])('%s', (_case, text, reason) => {
    expect(unsafeTextReason(text)).toBe(reason);
  });

  it('names the field at fault by its path from the root', () => {
    expect(findUnsafeField({ name: 'ok', tags: ['a', 'b\u0000'] }, 'body')).toEqual({
      field: 'tags[1]',
      reason: 'must not contain NUL characters (\\u0000)',
    });
    expect(findUnsafeField({ device_identity: [{ dsn: '1', global_device_id: '\udc00' }] }, 'body')).toEqual({
      field: 'device_identity[0].global_device_id',
      reason: expect.stringContaining('unpaired'),
    });
    expect(findUnsafeField([{ a: 'x' }, 'y\u0000'], 'body')?.field).toBe('body[1]');
    expect(findUnsafeField('\u0000', 'requestReference')?.field).toBe('requestReference');
    expect(findUnsafeField({ ['k\u0000']: 1 }, 'query')).toEqual({
      field: 'k\uFFFD',
      reason: '(a field name) must not contain NUL characters (\\u0000)',
    });
    expect(findUnsafeField({ a: 1, b: [true, null, 2.5], c: { d: 'fine' } }, 'body')).toBeUndefined();
  });

  it('refuses nesting beyond the limit, however deep, without recursion', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(findUnsafeField({ name: deep }, 'body')).toEqual({
      field: `name${'[0]'.repeat(31)}`,
      reason: 'must not be nested deeper than 32 levels',
    });
    let shallow: unknown = 'x';
    for (let i = 0; i < 31; i += 1) shallow = [shallow];
    expect(findUnsafeField(shallow, 'body')).toBeUndefined();
  });
});

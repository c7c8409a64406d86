import { findUnsafeText, storableJson, storableText, unsafeTextProblem, wellFormedText } from './unsafe-text';

const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDE00';
const PAIR = '\uD83D\uDE00'; // 😀

describe('unsafe text', () => {
  it('accepts ordinary text, astral characters included', () => {
    expect(unsafeTextProblem('feeder-12 ✓ 😀 ÄÖ')).toBeNull();
    expect(unsafeTextProblem('')).toBeNull();
  });

  it('refuses NUL characters and unpaired surrogates of either half', () => {
    expect(unsafeTextProblem('a\u0000b')).toMatch(/NUL/);
    expect(unsafeTextProblem(`a${LONE_HIGH}`)).toMatch(/unpaired UTF-16 surrogates/);
    expect(unsafeTextProblem(`${LONE_LOW}a`)).toMatch(/unpaired UTF-16 surrogates/);
    expect(unsafeTextProblem(`${LONE_LOW}${LONE_HIGH}`)).toMatch(/unpaired/);
  });

  it('names the path of the first unsafe string, in nested objects, arrays and keys', () => {
    expect(findUnsafeText({ name: 'ok', devices: [{ msn: '1' }, { serial: `x${LONE_HIGH}` }] })).toEqual({
      path: 'devices[1].serial',
      problem: 'must not contain unpaired UTF-16 surrogates',
    });
    expect(findUnsafeText('a\u0000', 'body')).toEqual({
      path: 'body',
      problem: expect.stringMatching(/NUL/),
    });
    expect(findUnsafeText({ ['k\u0000']: 1 })?.path).toBe('k\uFFFD');
    expect(findUnsafeText({ a: [1, true, null, { b: PAIR }] })).toBeNull();
  });

  it('makes text storable: replaced characters, and a marked cut that keeps pairs whole', () => {
    expect(wellFormedText(`a${LONE_HIGH}b\u0000c${PAIR}`)).toBe(`a\uFFFDb\uFFFDc${PAIR}`);
    expect(storableText('short', 10)).toBe('short');
    const long = 'x'.repeat(5000);
    const cut = storableText(long, 100);
    expect(cut).toHaveLength(100);
    expect(cut).toMatch(/^x+…\[truncated, 5000 characters\]$/);
    // The cut would fall between the halves of a pair: the half is dropped, not left alone.
    const emoji = PAIR.repeat(100);
    const cutEmoji = storableText(emoji, 51);
    expect(unsafeTextProblem(cutEmoji)).toBeNull();
    expect(cutEmoji.length).toBeLessThanOrEqual(51);
  });

  it('makes JSON storable within limits', () => {
    const limits = { maxStringLength: 20, maxItems: 3, maxDepth: 2 };
    expect(
      storableJson(
        { a: `${LONE_LOW}`, b: [1, 2, 3, 4, 5], c: { d: { e: 1 } }, f: 'y'.repeat(50), g: Infinity },
        limits,
      ),
    ).toEqual({
      a: '\uFFFD',
      b: [1, 2, 3, '[2 more items left out]'],
      c: { d: '[nested too deep: left out]' },
      '[left out]': '2 more fields',
    });
    expect(storableText('w'.repeat(30), 10)).toBe('wwwwwwwww…');
    expect(storableJson(['z'.repeat(100)], { ...limits, maxStringLength: 60 })).toEqual([
      expect.stringMatching(/^z{32}…\[truncated, 100 characters\]$/),
    ]);
  });
});

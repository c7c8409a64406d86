import { RenderedReadCache, renderedReadCache, rowSetVersion } from './rendered-read-cache';

describe('RenderedReadCache', () => {
  it('answers only for the version the answer was rendered from', () => {
    const cache = new RenderedReadCache<{ text: string }>(1000);
    const answer = { text: 'rendered' };
    cache.set('tx-1', '3/123', answer, 8);
    expect(cache.has('tx-1')).toBe(true);
    expect(cache.get('tx-1', '3/123')).toBe(answer);
    expect(cache.get('tx-1', '3/124')).toBeUndefined();
    expect(cache.get('tx-2', '3/123')).toBeUndefined();
  });

  it('drops the least recently used answers beyond its size, and keeps none over a quarter of it', () => {
    const cache = new RenderedReadCache<{ n: number }>(100);
    // Each 25 with its key: four fill it.
    for (const [n, key] of ['a', 'b', 'c', 'd'].entries()) cache.set(key, 'v', { n }, 24);
    expect(cache.get('a', 'v')).toEqual({ n: 0 }); // a is now the most recent
    cache.set('e', 'v', { n: 4 }, 24);
    expect(cache.has('b')).toBe(false);
    expect(['a', 'c', 'd', 'e'].every((key) => cache.has(key))).toBe(true);
    // Too large to keep: and the older answer under the same key goes too (it is out of date).
    cache.set('a', 'w', { n: 5 }, 30);
    expect(cache.has('a')).toBe(false);
    expect(cache.get('a', 'v')).toBeUndefined();
  });

  it('is none for 0 megabytes or without a setting', () => {
    expect(renderedReadCache(0)).toBeUndefined();
    expect(renderedReadCache(undefined)).toBeUndefined();
    expect(renderedReadCache(1)).toBeInstanceOf(RenderedReadCache);
  });

  it('tells row sets apart by their count and their versions’ sum', () => {
    expect(rowSetVersion({ rows: 0, version: null })).toBe('0/');
    expect(rowSetVersion({ rows: 2, version: '12' })).not.toBe(rowSetVersion({ rows: 3, version: '12' }));
  });
});

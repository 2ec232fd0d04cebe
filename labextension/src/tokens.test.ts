import { describe, expect, it, vi } from 'vitest';

import { fakeToken } from './testing';
import { TokenCache } from './tokens';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function tokenSource(lifetime = 60) {
  let count = 0;
  const fetchToken = vi.fn(async (workspace: string | null) => {
    count += 1;
    // iat far from the browser's clock: lifetimes are counted locally, not from exp.
    return fakeToken({ iat: 5, exp: 5 + lifetime, n: count, o: { id: workspace } });
  });
  return { fetchToken };
}

describe('TokenCache', () => {
  it('reuses a token until shortly before it expires', async () => {
    const time = clock();
    const source = tokenSource(60);
    const cache = new TokenCache(source, { now: time.now, marginMs: 10_000 });
    const first = await cache.getToken('org_a');
    time.advance(49_000);
    expect(await cache.getToken('org_a')).toBe(first);
    time.advance(2_000);
    expect(await cache.getToken('org_a')).not.toBe(first);
    expect(source.fetchToken).toHaveBeenCalledTimes(2);
  });

  it('makes concurrent callers share one request', async () => {
    const source = tokenSource();
    const cache = new TokenCache(source);
    const tokens = await Promise.all([1, 2, 3, 4].map(() => cache.getToken('org_a')));
    expect(new Set(tokens).size).toBe(1);
    expect(source.fetchToken).toHaveBeenCalledTimes(1);
  });

  it('keeps one token per workspace', async () => {
    const source = tokenSource();
    const cache = new TokenCache(source);
    await cache.getToken('org_a');
    await cache.getToken('org_b');
    await cache.getToken('personal');
    await cache.getToken('org_a');
    expect(source.fetchToken.mock.calls.map(call => call[0])).toEqual([
      'org_a',
      'org_b',
      'personal'
    ]);
  });

  it('refreshes short-lived tokens at half their lifetime at the latest', async () => {
    const time = clock();
    const source = tokenSource(15);
    const cache = new TokenCache(source, { now: time.now, marginMs: 10_000 });
    await cache.getToken('org_a');
    time.advance(7_000);
    await cache.getToken('org_a');
    time.advance(1_000);
    await cache.getToken('org_a');
    expect(source.fetchToken).toHaveBeenCalledTimes(2);
  });

  it('does not cache a failure and forgets everything on clear', async () => {
    const source = { fetchToken: vi.fn() };
    source.fetchToken.mockRejectedValueOnce(new Error('offline'));
    source.fetchToken.mockResolvedValue(fakeToken({ iat: 0, exp: 60 }));
    const cache = new TokenCache(source);
    await expect(cache.getToken(null)).rejects.toThrow('offline');
    await cache.getToken(null);
    cache.clear();
    await cache.getToken(null);
    expect(source.fetchToken).toHaveBeenCalledTimes(3);
  });
});

import { describe, expect, it, vi } from 'vitest';

import { NotAMemberError, SignedOutError } from './errors';
import { ClerkJsSource, IClerkLike, LocalInstanceSource } from './sources';

function fakeClerk(getToken: (options?: object) => Promise<string | null>): IClerkLike {
  return { session: { id: 'sess_1', getToken: vi.fn(getToken) }, signOut: vi.fn() };
}

describe('ClerkJsSource', () => {
  it('asks Clerk for the organization without changing the active one', async () => {
    const clerk = fakeClerk(async () => 'jwt');
    const source = new ClerkJsSource(clerk);
    await source.fetchToken('org_b');
    await source.fetchToken('personal');
    await source.fetchToken(null);
    expect(vi.mocked(clerk.session!.getToken).mock.calls).toEqual([
      [{ organizationId: 'org_b' }],
      [{ organizationId: null }],
      [{}]
    ]);
  });

  it('is signed out without a Clerk session or token', async () => {
    await expect(
      new ClerkJsSource({ session: null, signOut: vi.fn() }).fetchToken('org_a')
    ).rejects.toBeInstanceOf(SignedOutError);
    await expect(
      new ClerkJsSource(fakeClerk(async () => null)).fetchToken('org_a')
    ).rejects.toBeInstanceOf(SignedOutError);
  });

  it('reports a refused organization as not a member', async () => {
    const clerk = fakeClerk(() => Promise.reject(Object.assign(new Error('no'), { status: 403 })));
    await expect(new ClerkJsSource(clerk).fetchToken('org_x')).rejects.toBeInstanceOf(
      NotAMemberError
    );
  });
});

function answer(status: number, body: object): Response {
  return new Response(JSON.stringify(body), { status });
}

describe('LocalInstanceSource', () => {
  it("posts the organization to the instance's Frontend API with its cookie", async () => {
    const fetch = vi.fn(async () => answer(200, { object: 'token', jwt: 'jwt' }));
    const source = new LocalInstanceSource('http://127.0.0.1:8765/', 'sess_1', fetch);
    expect(await source.fetchToken('org_b')).toBe('jwt');
    await source.fetchToken('personal');
    await source.fetchToken(null);
    const calls = fetch.mock.calls as unknown as [string, RequestInit][];
    expect(calls[0][0]).toBe('http://127.0.0.1:8765/v1/client/sessions/sess_1/tokens');
    expect(calls[0][1].credentials).toBe('include');
    expect(calls.map(([, init]) => String(init.body))).toEqual([
      'organization_id=org_b',
      'organization_id=',
      ''
    ]);
  });

  it('is signed out when the instance says so or no session is known', async () => {
    const fetch = vi.fn(async () => answer(401, { errors: [{ code: 'signed_out' }] }));
    await expect(
      new LocalInstanceSource('http://x', 'sess_1', fetch).fetchToken('org_a')
    ).rejects.toBeInstanceOf(SignedOutError);
    await expect(
      new LocalInstanceSource('http://x', null, fetch).fetchToken('org_a')
    ).rejects.toBeInstanceOf(SignedOutError);
  });

  it('reports a refused organization as not a member', async () => {
    const fetch = vi.fn(async () =>
      answer(403, { errors: [{ code: 'not_a_member_in_organization' }] })
    );
    await expect(
      new LocalInstanceSource('http://x', 'sess_1', fetch).fetchToken('org_x')
    ).rejects.toBeInstanceOf(NotAMemberError);
  });
});

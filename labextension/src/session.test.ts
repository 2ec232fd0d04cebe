import { describe, expect, it, vi } from 'vitest';

import { SignedOutError } from './errors';
import { TabSession } from './session';
import { fakeToken } from './testing';
import { ITokenSource, TokenCache } from './tokens';
import { STORAGE_KEY } from './workspace';

function storage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value)
  };
}

function tokens(activeOrg: string | null = 'org_active') {
  const source: ITokenSource = {
    fetchToken: vi.fn(async (workspace: string | null) => {
      const org = workspace === null ? activeOrg : workspace === 'personal' ? null : workspace;
      return fakeToken({ iat: 0, exp: 60, o: org ? { id: org } : undefined, ws: workspace });
    })
  };
  return source;
}

function session(
  source: ITokenSource,
  requested: string | null,
  fetch: typeof globalThis.fetch,
  NativeWebSocket: typeof WebSocket = class {} as unknown as typeof WebSocket
) {
  const tab = storage();
  const tabSession = new TabSession({
    tokens: new TokenCache(source),
    requested,
    storage: tab,
    signOut: async () => undefined,
    ticketUrl: 'http://h/clerk/api/socket-ticket',
    fetch,
    WebSocket: NativeWebSocket
  });
  return { tab, tabSession };
}

describe('TabSession', () => {
  it('opens WebSockets with a single-use ticket, never the session token', async () => {
    const opened: string[] = [];
    class Native {
      constructor(url: string) {
        opened.push(url);
      }
    }
    const fetch = vi.fn(async (_: RequestInfo | URL) => new Response('{"ticket":"wst_one"}'));
    const { tabSession } = session(
      tokens(),
      'org_b',
      fetch,
      Native as unknown as typeof WebSocket
    );
    new tabSession.WebSocket('ws://lab/api/events/subscribe');
    await vi.waitFor(() => expect(opened).toHaveLength(1));
    expect(opened[0]).toBe('ws://lab/api/events/subscribe?ticket=wst_one&workspace=org_b');
    const asked = fetch.mock.calls[0][0] as Request;
    expect(asked.method).toBe('POST');
    expect(asked.url).toBe('http://h/clerk/api/socket-ticket');
    expect(asked.headers.get('Authorization')).toMatch(/^Bearer /);
  });

  it("sends the tab's token and workspace with every request", async () => {
    const fetch = vi.fn(async (_: RequestInfo | URL) => new Response('{}'));
    const { tabSession } = session(tokens(), 'org_b', fetch);
    await tabSession.fetch('http://lab/api/contents', { method: 'GET' });
    const sent = fetch.mock.calls[0][0] as Request;
    expect(sent.headers.get('X-Clerk-Workspace')).toBe('org_b');
    expect(sent.headers.get('Authorization')).toMatch(/^Bearer /);
    const claims = JSON.parse(
      Buffer.from(sent.headers.get('Authorization')!.split('.')[1], 'base64url').toString()
    );
    expect(claims.o.id).toBe('org_b');
  });

  it("resolves a tab without a workspace to the session's active one, and remembers it", async () => {
    const fetch = vi.fn(async () => new Response('{}'));
    const { tab, tabSession } = session(tokens('org_active'), null, fetch);
    expect(await tabSession.workspace()).toBe('org_active');
    expect(tab.items.get(STORAGE_KEY)).toBe('org_active');
    const personal = session(tokens(null), null, fetch);
    expect(await personal.tabSession.workspace()).toBe('personal');
  });

  it('retries a refused token once, then reports the person signed out', async () => {
    const fetch = vi.fn(async () => new Response('{}', { status: 401 }));
    const source = tokens();
    const { tabSession } = session(source, 'org_a', fetch);
    const signedOut = vi.fn();
    tabSession.signedOut.connect(signedOut);
    const response = await tabSession.fetch('http://lab/api/contents');
    expect(response.status).toBe(401);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(signedOut).toHaveBeenCalledTimes(1);
  });

  it('sends nothing more once signed out', async () => {
    const fetch = vi.fn(async () => new Response('{}'));
    const source: ITokenSource = { fetchToken: vi.fn().mockRejectedValue(new SignedOutError()) };
    const { tabSession } = session(source, 'org_a', fetch);
    const signedOut = vi.fn();
    tabSession.signedOut.connect(signedOut);
    await expect(tabSession.fetch('http://lab/api/contents')).rejects.toBeInstanceOf(
      SignedOutError
    );
    await expect(tabSession.fetch('http://lab/api/kernels')).rejects.toBeInstanceOf(
      SignedOutError
    );
    expect(fetch).not.toHaveBeenCalled();
    expect(source.fetchToken).toHaveBeenCalledTimes(1);
    expect(signedOut).toHaveBeenCalledTimes(1);
  });

  it('reports a workspace the server says the person is not a member of', async () => {
    const fetch = vi.fn(
      async () =>
        new Response('{"message": "You are not a member of this organization."}', {
          status: 403
        })
    );
    const { tabSession } = session(tokens(), 'org_x', fetch);
    const notMember = vi.fn();
    tabSession.notMember.connect((_, workspace) => notMember(workspace));
    await tabSession.fetch('http://lab/api/contents');
    await tabSession.fetch('http://lab/api/contents');
    expect(notMember.mock.calls).toEqual([['org_x']]);
  });
});

import { describe, expect, it } from 'vitest';

import {
  HubWorkspaces,
  IHubPage,
  currentWorkspace,
  hubPage,
  parseHubWorkspaces
} from './hubworkspaces';
import { wantsNewTab } from './workspace';

const PAGE: IHubPage = {
  hubPrefix: '/hub/',
  user: 'user_ada',
  serverUser: 'user_ada',
  serverName: 'oengines',
  token: 'page-token'
};

const ENGINES = {
  workspace: 'org_engines',
  label: 'Analytical Engines',
  server: 'oengines',
  spawn_url: '/hub/spawn/user_ada/oengines'
};
const PARTNERS = {
  ...ENGINES,
  workspace: 'org_partners',
  label: 'Difference Partners',
  server: 'opartners',
  spawn_url: '/hub/spawn/user_ada/opartners'
};

function options(values: Record<string, string>) {
  return (name: string) => values[name] ?? '';
}

describe('hub mode', () => {
  it('is on only where the hub-mode page config says so, behind a Hub', () => {
    const hub = { hubPrefix: '/hub/', hubUser: 'user_ada', hubServerName: 'oengines' };
    expect(hubPage(options(hub))).toBeNull(); // a plain JupyterHub server
    expect(hubPage(options({ clerkHub: 'true' }))).toBeNull(); // no Hub
    expect(hubPage(options({ ...hub, clerkHub: 'true', token: 't' }))).toMatchObject({
      hubPrefix: '/hub/',
      user: 'user_ada',
      serverName: 'oengines',
      token: 't'
    });
  });

  it('never takes an address to another site from an answer', () => {
    const answer = {
      workspaces: [
        ENGINES,
        { ...PARTNERS, spawn_url: '//evil.example/' },
        { ...PARTNERS, spawn_url: 'https://evil.example/' },
        { ...PARTNERS, spawn_url: '/\\evil.example/' },
        { ...PARTNERS, label: 3 },
        null
      ]
    };
    expect(parseHubWorkspaces(answer)).toEqual([ENGINES]);
    expect(parseHubWorkspaces({ workspaces: 'x' })).toEqual([]);
    expect(parseHubWorkspaces(null)).toEqual([]);
  });

  it("finds this server's workspace by its server name, whoever looks at it", () => {
    expect(currentWorkspace(PAGE, [ENGINES, PARTNERS])).toBe(ENGINES);
    expect(currentWorkspace({ ...PAGE, user: 'user_grace' }, [PARTNERS, ENGINES])).toBe(ENGINES);
    expect(currentWorkspace({ ...PAGE, serverName: '' }, [ENGINES])).toBeUndefined();
  });

  it("asks the Hub with the page's token, never with cookies, and keeps the answer", async () => {
    const calls: [string, RequestInit][] = [];
    const workspaces = new HubWorkspaces(PAGE, async (url, init) => {
      calls.push([url, init]);
      return new Response(JSON.stringify({ workspaces: [ENGINES, PARTNERS] }));
    });
    expect(await workspaces.refresh()).toEqual([ENGINES, PARTNERS]);
    expect(calls[0][0]).toBe('/hub/api/clerk/workspaces');
    expect(calls[0][1]).toMatchObject({
      headers: { Authorization: 'token page-token' },
      credentials: 'omit'
    });
    expect(workspaces.find('org_partners')).toEqual(PARTNERS);
  });

  it('keeps the last list when the Hub cannot answer', async () => {
    let status = 200;
    const workspaces = new HubWorkspaces(
      PAGE,
      async () => new Response(JSON.stringify({ workspaces: [ENGINES] }), { status })
    );
    await workspaces.refresh();
    status = 503;
    expect(await workspaces.refresh()).toBeNull();
    expect(workspaces.latest).toEqual([ENGINES]);
    const failing = new HubWorkspaces(PAGE, () => Promise.reject(new Error('offline')));
    expect(await failing.refresh()).toBeNull();
  });

  it('takes Ctrl, ⌘ or Shift on a menu item as a new tab', () => {
    const keys = { ctrlKey: false, metaKey: false, shiftKey: false };
    expect(wantsNewTab(keys)).toBe(false);
    for (const key of ['ctrlKey', 'metaKey', 'shiftKey'] as const) {
      expect(wantsNewTab({ ...keys, [key]: true })).toBe(true);
    }
  });
});

import { describe, expect, it } from 'vitest';

import {
  STORAGE_KEY,
  rememberWorkspace,
  tabWorkspace,
  withSocketCredentials,
  workspaceFromName,
  workspaceUrl
} from './workspace';

function storage(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value)
  };
}

describe('workspace of a tab', () => {
  it('reads organizations and personal from JupyterLab workspace names', () => {
    expect(workspaceFromName('org_2aDemoEngines')).toBe('org_2aDemoEngines');
    expect(workspaceFromName('personal')).toBe('personal');
    for (const name of ['default', 'auto-x', 'org_', 'org_a/b', 'org_a?x', '']) {
      expect(workspaceFromName(name)).toBeNull();
    }
  });

  it('prefers the URL, then what the tab chose before (renamed or duplicated tabs)', () => {
    const chosen = storage({ [STORAGE_KEY]: 'org_b' });
    expect(tabWorkspace('org_a', chosen)).toBe('org_a');
    expect(tabWorkspace('auto-q', chosen)).toBe('org_b');
    expect(tabWorkspace('default', storage())).toBeNull();
    expect(tabWorkspace('default', storage({ [STORAGE_KEY]: 'x/../y' }))).toBeNull();
  });

  it('remembers the choice for the next load of the tab', () => {
    const tab = storage();
    rememberWorkspace(tab, 'personal');
    expect(tabWorkspace('auto-a', tab)).toBe('personal');
  });

  it('builds bookmarkable workspace URLs', () => {
    expect(workspaceUrl('/', 'org_a')).toBe('/lab/workspaces/org_a');
    expect(workspaceUrl('/jupyter', 'personal')).toBe('/jupyter/lab/workspaces/personal');
  });

  it('puts the token and the workspace in WebSocket URLs', () => {
    expect(withSocketCredentials('ws://h/api/kernels/k/channels?session_id=s', 'a.b+c', 'org_a')).toBe(
      'ws://h/api/kernels/k/channels?session_id=s&ticket=a.b%2Bc&workspace=org_a'
    );
    expect(withSocketCredentials('ws://h/api/events/subscribe', 't', 'personal')).toBe(
      'ws://h/api/events/subscribe?ticket=t&workspace=personal'
    );
  });
});

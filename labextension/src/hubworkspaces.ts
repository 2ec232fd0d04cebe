/**
 * Hub mode's workspaces: the person's servers at the Hub, as `GET /hub/api/clerk/workspaces`
 * says them, and where choosing one goes (no DOM here: see `hub.ts` for the top bar).
 */

import { URLExt } from '@jupyterlab/coreutils';

import { IWorkspaceChoice } from './people';

/** What JupyterHub's single-user server (and our hub-mode page config) tell the page. */
export interface IHubPage {
  /** The Hub's base URL path, e.g. `/hub/`. */
  hubPrefix: string;
  /** Who is looking at the page, and whose server this is (an organization's admin may look). */
  user: string;
  serverUser: string;
  serverName: string;
  /**
   * The page's own Hub token: an OAuth token the Hub issued to this server for the person
   * looking at the page. Besides the Hub cookie, it is the only credential the workspaces
   * endpoint takes (not the server's own token, which its kernels inherit).
   */
  token: string;
}

export interface IHubWorkspace {
  workspace: string;
  label: string;
  server: string;
  /** The Hub's spawn page: a running server's JupyterLab, or it starts the server first. */
  spawn_url: string;
}

/** Null outside hub mode (the page config `clerkHub`, set only by the hub-mode servers). */
export function hubPage(option: (name: string) => string): IHubPage | null {
  const hubPrefix = option('hubPrefix');
  if (option('clerkHub') !== 'true' || !hubPrefix) {
    return null;
  }
  return {
    hubPrefix,
    user: option('hubUser'),
    serverUser: option('hubServerUser'),
    serverName: option('hubServerName'),
    token: option('token')
  };
}

/** A path on this origin (never another site, whatever an answer says). */
function isLocalPath(value: unknown): value is string {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value);
}

/** The Hub's answer, keeping only well-formed entries. */
export function parseHubWorkspaces(answer: unknown): IHubWorkspace[] {
  const list = (answer as { workspaces?: unknown } | null)?.workspaces;
  if (!Array.isArray(list)) {
    return [];
  }
  return list.flatMap((raw: Record<string, unknown>) =>
    raw &&
    typeof raw.workspace === 'string' &&
    typeof raw.label === 'string' &&
    typeof raw.server === 'string' &&
    isLocalPath(raw.spawn_url)
      ? [{ workspace: raw.workspace, label: raw.label, server: raw.server, spawn_url: raw.spawn_url }]
      : []
  );
}

/** This server's workspace among the person's (by server name: the same for every member). */
export function currentWorkspace(
  page: IHubPage,
  list: IHubWorkspace[]
): IHubWorkspace | undefined {
  return list.find(entry => entry.server === page.serverName);
}

export function hubChoices(list: IHubWorkspace[]): IWorkspaceChoice[] {
  return list.map(({ workspace, label }) => ({ workspace, label }));
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** The person's workspaces as the Hub last said them (refreshed whenever the menu opens). */
export class HubWorkspaces {
  constructor(
    private readonly page: IHubPage,
    private readonly fetchFn: Fetch
  ) {}

  latest: IHubWorkspace[] = [];

  /** Null when the Hub could not be asked (the switcher then offers what it had). */
  async refresh(): Promise<IHubWorkspace[] | null> {
    try {
      const response = await this.fetchFn(
        URLExt.join(this.page.hubPrefix, 'api/clerk/workspaces'),
        {
          headers: { Authorization: `token ${this.page.token}` },
          credentials: 'omit',
          cache: 'no-store'
        }
      );
      if (!response.ok) {
        return null;
      }
      this.latest = parseHubWorkspaces(await response.json());
      return this.latest;
    } catch {
      return null;
    }
  }

  find(workspace: string): IHubWorkspace | undefined {
    return this.latest.find(entry => entry.workspace === workspace);
  }
}

/**
 * Which workspace (organization, or `personal`) a browser tab works in.
 *
 * It is part of the tab's URL as the JupyterLab workspace name (`/lab/workspaces/<org_id>`),
 * so bookmarks and reloads keep it. JupyterLab renames a second tab with the same workspace
 * name to `auto-…` (and drops query strings), so the tab's choice is also kept in
 * `sessionStorage`, which survives those redirects and is copied when a tab is duplicated.
 */

export const PERSONAL = 'personal';
export const STORAGE_KEY = 'jupyter-clerk:workspace';

const ORG_ID = /^org_[A-Za-z0-9]{1,64}$/;

/** The workspace a JupyterLab workspace name stands for, if it stands for one. */
export function workspaceFromName(name: string): string | null {
  return name === PERSONAL || ORG_ID.test(name) ? name : null;
}

export interface IStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The URL's workspace name wins; then what this tab chose before; else null (the default). */
export function tabWorkspace(workspaceName: string, storage: IStorageLike): string | null {
  return workspaceFromName(workspaceName) ?? workspaceFromName(storage.getItem(STORAGE_KEY) ?? '');
}

export function rememberWorkspace(storage: IStorageLike, workspace: string): void {
  storage.setItem(STORAGE_KEY, workspace);
}

/** The page that opens `workspace` in JupyterLab, e.g. `/lab/workspaces/org_123`. */
export function workspaceUrl(baseUrl: string, workspace: string): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return `${base}lab/workspaces/${encodeURIComponent(workspace)}`;
}

/** The workspace query parameter a WebSocket URL carries next to `token`. */
/** A WebSocket URL with its single-use ticket (never the session token) and workspace. */
export function withSocketCredentials(url: string, ticket: string, workspace: string): string {
  const separator = url.includes('?') ? '&' : '?';
  return `${url}${separator}ticket=${encodeURIComponent(ticket)}&workspace=${encodeURIComponent(
    workspace
  )}`;
}

/** Ctrl, ⌘ or Shift held while choosing: the browser's own gesture for a new tab. */
export function wantsNewTab(event: {
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}): boolean {
  return event.ctrlKey || event.metaKey || event.shiftKey;
}

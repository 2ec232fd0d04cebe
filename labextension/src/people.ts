/** The server's answers about the signed-in person: who they are, where they may work. */

import { PageConfig, URLExt } from '@jupyterlab/coreutils';

import { TabSession } from './session';
import { PERSONAL } from './workspace';

export interface IOrganization {
  id: string;
  slug: string | null;
  name: string;
  role: string | null;
  image_url: string | null;
}

export interface IWorkspaces {
  personal_enabled: boolean;
  organizations: IOrganization[];
}

export interface IProfile {
  name: string;
  image_url: string | null;
}

export interface IWorkspaceChoice {
  workspace: string;
  label: string;
}

async function getJson<T>(session: TabSession, path: string): Promise<T | null> {
  try {
    const response = await session.personFetch(URLExt.join(PageConfig.getBaseUrl(), path));
    return response.ok ? ((await response.json()) as T) : null;
  } catch {
    return null;
  }
}

export function fetchProfile(session: TabSession): Promise<IProfile | null> {
  return getJson<IProfile>(session, 'clerk/api/user');
}

export function fetchWorkspaces(session: TabSession): Promise<IWorkspaces | null> {
  return getJson<IWorkspaces>(session, 'clerk/api/workspaces');
}

/** Everything the switcher offers: the person's organizations, then personal if enabled. */
export function workspaceChoices(workspaces: IWorkspaces | null): IWorkspaceChoice[] {
  const choices = (workspaces?.organizations ?? []).map(org => ({
    workspace: org.id,
    label: org.name || org.slug || org.id
  }));
  if (workspaces?.personal_enabled) {
    choices.push({ workspace: PERSONAL, label: 'Personal' });
  }
  return choices;
}

export function workspaceLabel(workspace: string, choices: IWorkspaceChoice[]): string {
  return (
    choices.find(choice => choice.workspace === workspace)?.label ??
    (workspace === PERSONAL ? 'Personal' : workspace)
  );
}

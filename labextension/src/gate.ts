/**
 * The membership gate: before JupyterLab builds its services, the tab's organization is
 * checked once. A person who is not a member sees a notice (who is signed in, a way out) and
 * JupyterLab is never built behind it: no plugin starts, no request fails, no token is asked
 * for again.
 */

import { PageConfig, URLExt } from '@jupyterlab/coreutils';

import { showNotAMember } from './notices';
import { fetchProfile, fetchWorkspaces, workspaceChoices } from './people';
import { TabSession } from './session';

export async function admitToWorkspace(session: TabSession): Promise<void> {
  try {
    await session.fetch(URLExt.join(PageConfig.getBaseUrl(), 'api/me'));
  } catch {
    // Not a member (no token for that organization) or signed out: told apart below.
  }
  const workspace = session.notMemberOf;
  if (workspace === null) {
    return; // a member, or signed out: JupyterLab starts (and its dialog says signed out)
  }
  const [profile, workspaces] = await Promise.all([
    fetchProfile(session),
    fetchWorkspaces(session)
  ]);
  showNotAMember(workspace, workspaceChoices(workspaces), {
    person: profile?.name ?? null,
    signOut: () => session.signOut(URLExt.join(PageConfig.getBaseUrl(), 'logout'))
  });
  await new Promise<never>(() => undefined); // JupyterLab stays unbuilt behind the notice
}

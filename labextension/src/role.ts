/**
 * The person's role in the tab's workspace, shown and respected: the top bar says it, and
 * what the role cannot do (create or change files, start kernels) is hidden or switched off
 * instead of failing with the server's refusal.
 *
 * The server decides (its authorizer answers `/api/me?permissions=`); this only follows.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';

import {
  ASKED,
  IMeReply,
  IWorkspaceAccess,
  IDocumentLike,
  accessFromMe,
  limitsText,
  restrictDocument
} from './access';
import { TabSession } from './session';
import { ITabSession } from './token';

/** Null if it could not be asked: then nothing is hidden and the server still refuses. */
export async function fetchAccess(
  fetchInWorkspace: (url: string) => Promise<Response>,
  workspace: string
): Promise<IWorkspaceAccess | null> {
  const query = encodeURIComponent(JSON.stringify(ASKED));
  try {
    const response = await fetchInWorkspace(
      URLExt.join(PageConfig.getBaseUrl(), `api/me?permissions=${query}`)
    );
    return response.ok ? accessFromMe((await response.json()) as IMeReply, workspace) : null;
  } catch {
    return null;
  }
}

/** The top bar's "· viewer", with what it means. */
export function roleBadge(access: IWorkspaceAccess): HTMLElement {
  const badge = document.createElement('span');
  badge.id = 'jp-clerk-role';
  badge.className = 'jp-ClerkRole';
  badge.textContent = `· ${access.role}`;
  badge.title = `Your role in this organization: ${access.role}. ${limitsText(access)}`;
  return badge;
}

/** Resolves with the element once it is in the page (the top bar is built asynchronously). */
function whenInPage(id: string): Promise<HTMLElement> {
  return new Promise(resolve => {
    const found = document.getElementById(id);
    if (found) {
      resolve(found);
      return;
    }
    const observer = new MutationObserver(() => {
      const element = document.getElementById(id);
      if (element) {
        observer.disconnect();
        resolve(element);
      }
    });
    observer.observe(document.body, { childList: true, subtree: true });
  });
}

/**
 * Hides the actions the role cannot take (classes on <body>, see style/index.css) and makes
 * every document opened from now on (restored layouts included) follow the role.
 */
export function followRole(app: JupyterFrontEnd, access: IWorkspaceAccess): void {
  document.body.classList.toggle('jp-ClerkReadOnly', !access.canWrite);
  document.body.classList.toggle('jp-ClerkNoKernels', !access.canRun);
  if (access.canWrite && access.canRun) {
    return;
  }
  const watched = new Set<string>();
  const watch = (): void => {
    for (const factory of app.docRegistry.widgetFactories()) {
      if (!watched.has(factory.name)) {
        watched.add(factory.name);
        factory.widgetCreated.connect((_, widget) =>
          restrictDocument(widget as IDocumentLike, access)
        );
      }
    }
  };
  watch();
  app.docRegistry.changed.connect(watch);
}

/** Asks once, before the layout is restored, so that restored documents follow the role. */
export const rolePlugin: JupyterFrontEndPlugin<void> = {
  id: '@jupyter-clerk/labextension:role',
  description: "The person's role in the tab's workspace: shown, and what it cannot do hidden.",
  autoStart: true,
  requires: [ITabSession],
  activate: async (app: JupyterFrontEnd, session: TabSession): Promise<void> => {
    let workspace: string;
    try {
      workspace = await session.workspace();
    } catch {
      return; // signed out: the dialog says so
    }
    const access = await fetchAccess(session.fetch, workspace);
    if (access === null) {
      return;
    }
    followRole(app, access);
    if (access.role) {
      // Beside the organization's name in its top-bar item: "Analytical Engines · viewer".
      const badge = roleBadge(access);
      void whenInPage('jp-clerk-workspace').then(item => item.appendChild(badge));
    }
  }
};

/**
 * Hub mode: each workspace is one of the person's servers at the Hub, so the top bar shows this
 * server's workspace and switches by opening another server: its JupyterLab if it runs, else the
 * Hub's spawn page, which starts it (the Hub fills in the organization and checks the
 * membership) and shows its progress, then opens it. Nothing here needs more than the page's
 * own token: the list comes from the Hub (the person's own), and switching is navigation.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

import {
  HubWorkspaces,
  currentWorkspace,
  destination,
  hubChoices,
  hubPage
} from './hubworkspaces';
import { prefixDocumentTitle, workspaceSwitcher } from './topbar';

export const OPEN_HUB_WORKSPACE = 'jupyter-clerk:open-hub-workspace';

/** Another server's page in a new tab that cannot reach back into this one. */
function openInNewTab(url: string): void {
  window.open(url, '_blank', 'noopener');
}

export const hubPlugin: JupyterFrontEndPlugin<void> = {
  id: '@jupyter-clerk/labextension:hub-top-bar',
  description: "Hub mode: this server's workspace, and a switcher that opens the others.",
  autoStart: true,
  activate: async (app: JupyterFrontEnd): Promise<void> => {
    const page = hubPage(name => PageConfig.getOption(name));
    if (!page) {
      return;
    }
    const workspaces = new HubWorkspaces(page, (url, init) => window.fetch(url, init));
    app.commands.addCommand(OPEN_HUB_WORKSPACE, {
      label: args => String(args.label ?? args.workspace),
      execute: args => {
        const entry = workspaces.find(String(args.workspace));
        if (!entry) {
          return;
        }
        if (args.newTab) {
          openInNewTab(destination(entry));
        } else {
          window.location.assign(destination(entry));
        }
      }
    });
    const list = (await workspaces.refresh()) ?? [];
    const current = currentWorkspace(page, list);
    const label = current?.label ?? (page.serverName || 'Personal');
    prefixDocumentTitle(label);
    // Someone else's server (an organization's admin looking in): all of theirs stay offered.
    const own = page.user === page.serverUser;
    app.shell.add(
      workspaceSwitcher({
        commands: app.commands,
        command: OPEN_HUB_WORKSPACE,
        current: own && current ? current.workspace : '',
        label,
        choices: hubChoices(list),
        refresh: async () => {
          const fresh = await workspaces.refresh();
          return fresh && hubChoices(fresh);
        }
      }),
      'top',
      { rank: 900 }
    );
  }
};

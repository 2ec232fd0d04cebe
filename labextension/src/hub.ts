/**
 * Hub mode: each workspace is one of the person's servers at the Hub, so the top bar shows this
 * server's workspace and switches by opening another server through the Hub's spawn page, which
 * sends the tab straight to a running server, and starts any other (filling in the
 * organization and checking the membership), showing its progress, then opens it. Nothing here
 * needs more than the page's own token: the list comes from the Hub (the person's own), and
 * switching is navigation, decided by the Hub with what it knows at that moment.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

import { HubWorkspaces, currentWorkspace, hubChoices, hubPage } from './hubworkspaces';
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
  activate: (app: JupyterFrontEnd): void => {
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
          openInNewTab(entry.spawn_url);
        } else {
          window.location.assign(entry.spawn_url);
        }
      }
    });
    // Not awaited: JupyterLab starts without waiting for the Hub.
    void workspaces.refresh().then(list => {
      const known = list ?? [];
      const current = currentWorkspace(page, known);
      const label = current?.label ?? (page.serverName || 'Personal');
      prefixDocumentTitle(label);
      // Someone else's server (an organization's admin looking in): all of theirs stay offered.
      const own = page.user === page.serverUser;
      const switcher = workspaceSwitcher({
        commands: app.commands,
        command: OPEN_HUB_WORKSPACE,
        current: own && current ? current.workspace : '',
        label,
        choices: hubChoices(known),
        refresh: async () => {
          const fresh = await workspaces.refresh();
          return fresh && hubChoices(fresh);
        }
      });
      app.shell.add(switcher, 'top', { rank: 900 });
    });
  }
};

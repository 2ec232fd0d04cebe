/**
 * jupyter-clerk's JupyterLab front end.
 *
 * - `session` (a service-manager plugin): the tab's Clerk session and workspace;
 * - `server-settings`: JupyterLab's server settings with a `fetch` and `WebSocket` that
 *   carry a fresh token and the tab's workspace (replaces the default plugin, disabled in
 *   package.json);
 * - `top-bar`: the organization switcher, who is signed in, and the signed-out and
 *   not-a-member notices;
 * - `hub-top-bar`: in hub mode (where the four above are disabled, see
 *   jupyter_clerk/hub/singleuser_config), the switcher between the person's servers.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { showErrorMessage } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { IServerSettings, ServerConnection, ServiceManagerPlugin } from '@jupyterlab/services';

import { loadClerkJs } from './clerkjs';
import { pageClerkConfig, sessionIdFromCookie } from './config';
import { admitToWorkspace } from './gate';
import { showNotAMember, showSignedOutDialog } from './notices';
import { fetchProfile, fetchWorkspaces, workspaceChoices, workspaceLabel } from './people';
import { rolePlugin } from './role';
import { TabSession } from './session';
import { ClerkJsSource, LocalInstanceSource } from './sources';
import { ITabSession } from './token';
import { TokenCache } from './tokens';
import { hubPlugin } from './hub';
import {
  CommandIDs,
  addCommands,
  prefixDocumentTitle,
  userButton,
  workspaceSwitcher
} from './topbar';
import { tabWorkspace } from './workspace';

const SIGN_IN_ATTEMPT_KEY = 'jupyter-clerk:sign-in-attempt';
const SOCKET_TICKET_URL = () => URLExt.join(PageConfig.getBaseUrl(), 'clerk/api/socket-ticket');

const sessionPlugin: ServiceManagerPlugin<TabSession> = {
  id: '@jupyter-clerk/labextension:session',
  description: "The tab's Clerk session: fresh tokens for the tab's workspace.",
  autoStart: true,
  provides: ITabSession,
  activate: async (): Promise<TabSession> => {
    // The server accepted this page: the sign-in page's loop guard (jupyter_clerk/templates/
    // sign_in.html) must not count this sign-in against the next one.
    window.sessionStorage.removeItem(SIGN_IN_ATTEMPT_KEY);
    const config = pageClerkConfig();
    const requested = tabWorkspace(PageConfig.getOption('workspace'), window.sessionStorage);
    if (config.localInstance) {
      const source = new LocalInstanceSource(
        config.frontendApiUrl,
        sessionIdFromCookie(document.cookie)
      );
      return new TabSession({
        tokens: new TokenCache(source),
        requested,
        storage: window.sessionStorage,
        ticketUrl: SOCKET_TICKET_URL(),
        // Tests only (CLERK_LOCAL_INSTANCE_SHORTCUT): /logout signs out of the local instance.
        signOut: async redirectUrl => window.location.assign(redirectUrl)
      });
    }
    const clerk = await loadClerkJs(config).catch((error: Error) => {
      void showErrorMessage('Clerk is unreachable', error.message);
      throw error;
    });
    const session = new TabSession({
      tokens: new TokenCache(new ClerkJsSource(clerk)),
      requested,
      storage: window.sessionStorage,
      ticketUrl: SOCKET_TICKET_URL(),
      signOut: redirectUrl => clerk.signOut({ redirectUrl })
    });
    clerk.addListener?.(({ session: current }) => {
      // Signed out elsewhere: `null`. clerk-js 6 signing out in this tab: `undefined`, then
      // it navigates away (TabSession knows it is leaving and shows no dialog).
      if (current === null || current === undefined) {
        session.markSignedOut();
      }
    });
    return session;
  }
};

const serverSettingsPlugin: ServiceManagerPlugin<ServerConnection.ISettings> = {
  id: '@jupyter-clerk/labextension:server-settings',
  description: 'Server settings whose requests and WebSockets carry fresh Clerk tokens.',
  autoStart: true,
  provides: IServerSettings,
  requires: [ITabSession],
  activate: async (_: null, session: TabSession): Promise<ServerConnection.ISettings> => {
    await admitToWorkspace(session); // a non-member's tab goes no further than its notice
    return ServerConnection.makeSettings({
      token: '',
      appendToken: false,
      fetch: session.fetch,
      WebSocket: session.WebSocket
    });
  }
};

const topBarPlugin: JupyterFrontEndPlugin<void> = {
  id: '@jupyter-clerk/labextension:top-bar',
  description: 'Organization switcher, signed-in person, signed-out and not-a-member notices.',
  autoStart: true,
  requires: [ITabSession],
  activate: async (app: JupyterFrontEnd, session: TabSession): Promise<void> => {
    session.signedOut.connect(() => void showSignedOutDialog());
    if (session.isSignedOut) {
      void showSignedOutDialog();
    }
    addCommands(app.commands, session);
    const choices = fetchWorkspaces(session).then(workspaceChoices);
    const notMember = async (workspace: string) => showNotAMember(workspace, await choices);
    session.notMember.connect((_, workspace) => void notMember(workspace));
    if (session.notMemberOf) {
      void notMember(session.notMemberOf);
    }
    let current: string;
    try {
      current = await session.workspace();
    } catch {
      return; // signed out: the dialog says so
    }
    const [profile, offered] = await Promise.all([fetchProfile(session), choices]);
    const label = workspaceLabel(current, offered);
    prefixDocumentTitle(label);
    const switcher = workspaceSwitcher({
      commands: app.commands,
      command: CommandIDs.openWorkspace,
      current,
      label,
      choices: offered
    });
    app.shell.add(switcher, 'top', { rank: 900 });
    app.shell.add(userButton(app.commands, profile), 'top', { rank: 1000 });
  }
};

export default [sessionPlugin, serverSettingsPlugin, topBarPlugin, rolePlugin, hubPlugin];

/** The top bar: which organization this tab is in (and a switcher), who is signed in. */

import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { CommandRegistry } from '@lumino/commands';
import { Menu, Widget } from '@lumino/widgets';

import { IProfile, IWorkspaceChoice } from './people';
import { TabSession } from './session';
import { rememberWorkspace, wantsNewTab, workspaceUrl } from './workspace';

export const CommandIDs = {
  openWorkspace: 'jupyter-clerk:open-workspace',
  signOut: 'jupyter-clerk:sign-out'
};

export function addCommands(commands: CommandRegistry, session: TabSession): void {
  commands.addCommand(CommandIDs.openWorkspace, {
    label: args => String(args.label ?? args.workspace),
    execute: args => {
      const workspace = String(args.workspace);
      const url = workspaceUrl(PageConfig.getBaseUrl(), workspace);
      if (args.newTab) {
        window.open(url, '_blank');
      } else {
        rememberWorkspace(window.sessionStorage, workspace);
        window.location.assign(url);
      }
    }
  });
  commands.addCommand(CommandIDs.signOut, {
    label: 'Sign out',
    execute: () => session.signOut(URLExt.join(PageConfig.getBaseUrl(), 'logout'))
  });
}

function button(className: string, title: string): HTMLButtonElement {
  const element = document.createElement('button');
  element.className = `jp-ClerkTopBar-button ${className}`;
  element.title = title;
  return element;
}

function openBelow(menu: Menu, anchor: HTMLElement): void {
  const rect = anchor.getBoundingClientRect();
  menu.open(rect.left, rect.bottom);
}

export interface ISwitcherOptions {
  commands: CommandRegistry;
  /** Run with `{ workspace, label }`, plus `newTab: true` for a new tab. */
  command: string;
  /** The workspace shown as current ('' for none): not offered in this tab. */
  current: string;
  label: string;
  choices: IWorkspaceChoice[];
  /** Fresh choices each time the menu opens (null: keep the last ones). */
  refresh?: () => Promise<IWorkspaceChoice[] | null>;
}

function switcherMenu(options: ISwitcherOptions, choices: IWorkspaceChoice[]): Menu {
  const { commands, command, current } = options;
  const menu = new Menu({ commands });
  menu.addClass('jp-ClerkWorkspaceMenu');
  const newTab = new Menu({ commands });
  newTab.title.label = 'Open in a new tab';
  for (const choice of choices) {
    const args = { workspace: choice.workspace, label: choice.label };
    if (choice.workspace !== current) {
      menu.addItem({ command, args });
    }
    newTab.addItem({ command, args: { ...args, newTab: true } });
  }
  menu.addItem({ type: 'separator' });
  menu.addItem({ type: 'submenu', submenu: newTab });
  // A modified click on an item opens it in a new tab (Lumino's menus run commands on
  // pointerup without telling them about the keys, so this listens first).
  menu.node.addEventListener(
    'pointerup',
    event => {
      const item = menu.activeItem;
      if (event.button !== 0 || !wantsNewTab(event) || item?.type !== 'command') {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      menu.close();
      void commands.execute(item.command, { ...item.args, newTab: true });
    },
    true
  );
  return menu;
}

/** The tab's workspace; its menu switches this tab, or opens another in a new tab. */
export function workspaceSwitcher(options: ISwitcherOptions): Widget {
  const switcher = button('jp-ClerkWorkspaceSwitcher', 'Organization of this tab');
  switcher.dataset.workspace = options.current;
  switcher.textContent = options.label;
  let choices = options.choices;
  let menu: Menu | null = null;
  switcher.onclick = async () => {
    choices = (await options.refresh?.()) ?? choices;
    menu?.dispose();
    menu = switcherMenu(options, choices);
    openBelow(menu, switcher);
  };
  return topBarItem('jp-clerk-workspace', switcher);
}

/** Who is signed in, with a menu to sign out. */
export function userButton(commands: CommandRegistry, profile: IProfile | null): Widget {
  const name = profile?.name || 'Signed in';
  const user = button('jp-ClerkUser', `Signed in as ${name}`);
  if (profile?.image_url) {
    const avatar = document.createElement('img');
    avatar.className = 'jp-ClerkUser-avatar';
    avatar.src = profile.image_url;
    avatar.alt = '';
    user.appendChild(avatar);
  }
  const text = document.createElement('span');
  text.className = 'jp-ClerkUser-name';
  text.textContent = name;
  user.appendChild(text);
  const menu = new Menu({ commands });
  menu.addItem({ command: CommandIDs.signOut });
  user.onclick = () => openBelow(menu, user);
  return topBarItem('jp-clerk-user', user);
}

function topBarItem(id: string, element: HTMLElement): Widget {
  const widget = new Widget();
  widget.id = id;
  widget.addClass('jp-ClerkTopBar-item');
  widget.node.appendChild(element);
  return widget;
}

/** Keeps `<organization> · ` in front of whatever title JupyterLab gives the tab. */
export function prefixDocumentTitle(label: string): void {
  const prefix = `${label} · `;
  const apply = () => {
    if (!document.title.startsWith(prefix)) {
      document.title = prefix + document.title;
    }
  };
  apply();
  const title = document.querySelector('title');
  if (title) {
    new MutationObserver(apply).observe(title, { childList: true });
  }
}

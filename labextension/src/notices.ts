/** What the person sees when the tab cannot work: signed out, or not in the organization. */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';

import { IWorkspaceChoice } from './people';
import { workspaceUrl } from './workspace';

export function signInUrl(): string {
  const next = window.location.pathname + window.location.search;
  return `${URLExt.join(PageConfig.getBaseUrl(), 'login')}?next=${encodeURIComponent(next)}`;
}

/** A dialog that stays until the person chooses to sign in again. */
export async function showSignedOutDialog(): Promise<void> {
  for (;;) {
    const result = await showDialog({
      title: 'You are signed out',
      body:
        'Your Clerk session has ended: you signed out in another tab, or your session was ' +
        'revoked. Sign in again to keep working; unsaved changes in this tab are kept ' +
        'until you leave it.',
      buttons: [Dialog.okButton({ label: 'Sign in again' })],
      hasClose: false
    });
    if (result.button.accept) {
      window.location.assign(signInUrl());
      return;
    }
  }
}

export interface INotAMemberOptions {
  /** Who is signed in, so that a person with two accounts sees which one this is. */
  person?: string | null;
  signOut?: () => unknown;
}

/** Covers the workbench: this organization is not the person's; offer theirs instead. */
export function showNotAMember(
  workspace: string,
  choices: IWorkspaceChoice[],
  options: INotAMemberOptions = {}
): void {
  if (document.querySelector('.jp-ClerkNotMember')) {
    return;
  }
  const overlay = document.createElement('div');
  overlay.className = 'jp-ClerkNotMember';
  overlay.setAttribute('role', 'alertdialog');
  const card = document.createElement('div');
  card.className = 'jp-ClerkNotMember-card';
  const title = document.createElement('h2');
  title.textContent = 'You are not a member of this organization';
  const text = document.createElement('p');
  text.textContent =
    `This tab is for the organization ${workspace}, which your account does not belong to. ` +
    'Ask an administrator for an invitation, or open one of your workspaces:';
  const list = document.createElement('ul');
  for (const choice of choices) {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = workspaceUrl(PageConfig.getBaseUrl(), choice.workspace);
    link.textContent = choice.label;
    item.appendChild(link);
    list.appendChild(item);
  }
  card.append(title, text, list);
  if (options.person || options.signOut) {
    const who = document.createElement('p');
    who.className = 'jp-ClerkNotMember-person';
    who.textContent = options.person ? `Signed in as ${options.person}. ` : '';
    if (options.signOut) {
      const signOut = document.createElement('button');
      signOut.className = 'jp-ClerkNotMember-signOut';
      signOut.textContent = 'Sign out';
      signOut.onclick = () => void options.signOut?.();
      who.appendChild(signOut);
    }
    card.appendChild(who);
  }
  overlay.appendChild(card);
  document.body.appendChild(overlay);
}

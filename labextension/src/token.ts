/** The dependency-injection token of the tab's Clerk session. */

import { Token } from '@lumino/coreutils';

import { TabSession } from './session';

export const ITabSession = new Token<TabSession>(
  '@jupyter-clerk/labextension:ITabSession',
  "The browser tab's Clerk session: its workspace and fresh session tokens."
);

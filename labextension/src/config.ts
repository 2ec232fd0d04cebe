/** What the server tells the front end about its Clerk instance (page config `clerk`). */

import { PageConfig } from '@jupyterlab/coreutils';

import { decodeClaims } from './jwt';

export interface IClerkConfig {
  /** The instance's publishable key (pk_test_… / pk_live_…). */
  publishableKey: string;
  /** Where browsers reach the Frontend API, e.g. https://clerk.example.com. */
  frontendApiUrl: string;
  /** Set when the Frontend API is not at the publishable key's host (Clerk's proxy URL). */
  proxyUrl: string | null;
  /** The clerk-js version to load: a major (`6`, `5`) or an exact version. */
  clerkJsVersion: string;
  /** Tests only: tokens straight from the local instance's Frontend API, no clerk-js. */
  localInstance: boolean;
}

export function readClerkConfig(raw: string): IClerkConfig {
  const value = JSON.parse(raw || '{}') as Partial<IClerkConfig>;
  if (typeof value.publishableKey !== 'string' || typeof value.frontendApiUrl !== 'string') {
    throw new Error('jupyter-clerk: the server sent no Clerk configuration (page config "clerk").');
  }
  return {
    publishableKey: value.publishableKey,
    frontendApiUrl: value.frontendApiUrl.replace(/\/$/, ''),
    proxyUrl: typeof value.proxyUrl === 'string' && value.proxyUrl ? value.proxyUrl : null,
    clerkJsVersion: typeof value.clerkJsVersion === 'string' ? value.clerkJsVersion : '6',
    localInstance: value.localInstance === true
  };
}

export function pageClerkConfig(): IClerkConfig {
  return readClerkConfig(PageConfig.getOption('clerk'));
}

/** The Clerk session id of the `__session` cookie this page was loaded with. */
export function sessionIdFromCookie(cookie: string): string | null {
  const match = cookie.match(/(?:^|;\s*)__session=([^;]+)/);
  if (!match) {
    return null;
  }
  try {
    const sid = decodeClaims(decodeURIComponent(match[1])).sid;
    return typeof sid === 'string' ? sid : null;
  } catch {
    return null;
  }
}

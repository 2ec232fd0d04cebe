/**
 * Loading Clerk's browser SDK (clerk-js 5 or 6) for the configured instance.
 *
 * The bundle comes from the Frontend API's `/npm/` path, as Clerk serves it. With a proxy URL
 * (the Frontend API reached somewhere other than the publishable key's host) clerk-js must be
 * told so, or it calls `https://<key host>`; and when the Frontend API cannot be reached,
 * `load()` still resolves, signed out: that is checked here and reported with the URL.
 */

import { IClerkConfig } from './config';
import { IClerkLike } from './sources';

/** What `window.Clerk` offers beyond the token source. */
export interface ILoadableClerk extends IClerkLike {
  load(options?: Record<string, unknown>): Promise<void>;
  frontendApi?: string;
  environment?: { displayConfig?: { instanceEnvironmentType?: string } } | null;
}

/** The script URL of a clerk-js version (`6`, `5` or an exact `6.40.0`). */
export function clerkJsUrl(config: IClerkConfig): string {
  return `${config.frontendApiUrl}/npm/@clerk/clerk-js@${config.clerkJsVersion}/dist/clerk.browser.js`;
}

/** Where clerk-js sends its calls: the proxy URL, else the publishable key's host. */
export function frontendApiCalled(config: IClerkConfig, clerk: ILoadableClerk): string {
  return config.proxyUrl ?? `https://${clerk.frontendApi ?? '<the publishable key host>'}`;
}

/**
 * `load()` resolved, but did it reach the Frontend API? Every environment Clerk serves names
 * its instance type; an environment that was never fetched has an empty one.
 */
export function checkReached(config: IClerkConfig, clerk: ILoadableClerk): void {
  if (!clerk.environment?.displayConfig?.instanceEnvironmentType) {
    throw new Error(
      `jupyter-clerk: Clerk's Frontend API at ${frontendApiCalled(config, clerk)} could not ` +
        'be reached, so nobody can be signed in. Check CLERK_FRONTEND_API_URL and the network.'
    );
  }
}

function addScript(src: string, attributes: Record<string, string>): Promise<void> {
  const script = document.createElement('script');
  script.src = src;
  script.async = true;
  script.crossOrigin = 'anonymous';
  for (const [name, value] of Object.entries(attributes)) {
    script.setAttribute(name, value);
  }
  return new Promise<void>((resolve, reject) => {
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`jupyter-clerk: could not load Clerk from ${src}`));
    document.head.appendChild(script);
  });
}

/** clerk-js without its UI: JupyterLab only needs sessions, tokens and sign-out. */
export async function loadClerkJs(config: IClerkConfig): Promise<ILoadableClerk> {
  const attributes: Record<string, string> = {
    'data-clerk-publishable-key': config.publishableKey
  };
  if (config.proxyUrl) {
    attributes['data-clerk-proxy-url'] = config.proxyUrl;
  }
  await addScript(clerkJsUrl(config), attributes);
  const clerk = (window as unknown as { Clerk: ILoadableClerk }).Clerk;
  await clerk.load();
  checkReached(config, clerk);
  return clerk;
}

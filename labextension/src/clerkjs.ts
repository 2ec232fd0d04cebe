/** Loading Clerk's browser SDK for the configured instance, from its Frontend API host. */

import { IClerkConfig } from './config';
import { IClerkLike } from './sources';

const CLERK_JS_PATH = '/npm/@clerk/clerk-js@5/dist/clerk.browser.js';

export async function loadClerkJs(config: IClerkConfig): Promise<IClerkLike> {
  const script = document.createElement('script');
  script.src = config.frontendApiUrl + CLERK_JS_PATH;
  script.async = true;
  script.crossOrigin = 'anonymous';
  script.setAttribute('data-clerk-publishable-key', config.publishableKey);
  await new Promise<void>((resolve, reject) => {
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`Could not load Clerk from ${script.src}`));
    document.head.appendChild(script);
  });
  const clerk = (window as unknown as { Clerk: IClerkLike & { load(): Promise<void> } }).Clerk;
  await clerk.load();
  return clerk;
}

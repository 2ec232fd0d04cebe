import { describe, expect, it } from 'vitest';

import { checkReached, clerkJsUrl, ILoadableClerk } from './clerkjs';
import { IClerkConfig, readClerkConfig } from './config';

const config: IClerkConfig = readClerkConfig(
  JSON.stringify({
    publishableKey: 'pk_live_Y2xlcmsuZXhhbXBsZS5jb20k',
    frontendApiUrl: 'https://clerk.example.com/',
    clerkJsVersion: '5'
  })
);

function clerk(instanceEnvironmentType: string | null): ILoadableClerk {
  return {
    load: async () => undefined,
    signOut: async () => undefined,
    frontendApi: 'clerk.example.com',
    environment:
      instanceEnvironmentType === null ? null : { displayConfig: { instanceEnvironmentType } }
  };
}

describe('loading clerk-js', () => {
  it('loads the configured major version from the Frontend API', () => {
    expect(clerkJsUrl(config)).toBe(
      'https://clerk.example.com/npm/@clerk/clerk-js@5/dist/clerk.browser.js'
    );
  });

  it('defaults to clerk-js 6 and no proxy', () => {
    const plain = readClerkConfig('{"publishableKey": "pk", "frontendApiUrl": "https://c.x"}');
    expect(plain.clerkJsVersion).toBe('6');
    expect(plain.proxyUrl).toBeNull();
  });

  it('fails loudly, naming the URL, when the Frontend API never answered', () => {
    expect(() => checkReached(config, clerk(''))).toThrow(
      /Frontend API at https:\/\/clerk\.example\.com could not be reached/
    );
    const proxied = { ...config, proxyUrl: 'https://nb.example.com/__clerk' };
    expect(() => checkReached(proxied, clerk(null))).toThrow(/https:\/\/nb\.example\.com\/__clerk/);
  });

  it('accepts a loaded environment', () => {
    expect(() => checkReached(config, clerk('production'))).not.toThrow();
  });
});

/**
 * Session tokens per workspace: cached until shortly before they expire, one request in
 * flight per workspace however many callers ask at once.
 *
 * A token's lifetime is read from its own `exp - iat` and counted on the browser's clock
 * from the moment it arrived, so a skewed clock does not make every token look expired.
 */

import { decodeClaims } from './jwt';

/** `personal`, an organization id, or null: the session's active organization. */
export type WorkspaceKey = string | null;

/** Where tokens come from: Clerk's browser SDK or the local instance's Frontend API. */
export interface ITokenSource {
  fetchToken(workspace: WorkspaceKey): Promise<string>;
}

export interface ITokenCacheOptions {
  /** Refresh this long before expiry, at most half the token's lifetime. Default 10 s. */
  marginMs?: number;
  now?: () => number;
}

interface ICached {
  token: string;
  refreshAt: number;
}

export class TokenCache {
  constructor(source: ITokenSource, options: ITokenCacheOptions = {}) {
    this._source = source;
    this._marginMs = options.marginMs ?? 10_000;
    this._now = options.now ?? Date.now;
  }

  /** A token for `workspace` that stays valid for at least the margin. */
  getToken(workspace: WorkspaceKey): Promise<string> {
    const key = workspace ?? '';
    const cached = this._cached.get(key);
    if (cached && this._now() < cached.refreshAt) {
      return Promise.resolve(cached.token);
    }
    let pending = this._pending.get(key);
    if (!pending) {
      pending = this._fetch(key, workspace).finally(() => this._pending.delete(key));
      this._pending.set(key, pending);
    }
    return pending;
  }

  /** Forget every token (e.g. the server refused one). */
  clear(): void {
    this._cached.clear();
  }

  private async _fetch(key: string, workspace: WorkspaceKey): Promise<string> {
    const receivedAt = this._now();
    const token = await this._source.fetchToken(workspace);
    const { iat, exp } = decodeClaims(token);
    const lifetimeMs =
      typeof iat === 'number' && typeof exp === 'number' ? Math.max(0, exp - iat) * 1000 : 0;
    const margin = Math.min(this._marginMs, lifetimeMs / 2);
    this._cached.set(key, { token, refreshAt: receivedAt + lifetimeMs - margin });
    return token;
  }

  private readonly _source: ITokenSource;
  private readonly _marginMs: number;
  private readonly _now: () => number;
  private readonly _cached = new Map<string, ICached>();
  private readonly _pending = new Map<string, Promise<string>>();
}

/**
 * The tab's Clerk session: which workspace it works in, a fresh token for every request and
 * WebSocket, and the moment it learns that the person is signed out or not a member.
 *
 * Once signed out, requests fail at once without touching the network: the person sees one
 * dialog, not a stream of failed requests.
 */

import { ISignal, Signal } from '@lumino/signaling';

import { NotAMemberError, SignedOutError } from './errors';
import { decodeClaims, organizationOf } from './jwt';
import { deferredWebSocketClass } from './socket';
import { TokenCache } from './tokens';
import { IStorageLike, PERSONAL, rememberWorkspace, withSocketCredentials } from './workspace';

export const WORKSPACE_HEADER = 'X-Clerk-Workspace';
const CHANNEL = 'jupyter-clerk';

export interface ITabSessionOptions {
  tokens: TokenCache;
  /** The workspace the URL or the tab asked for; null: the session's active organization. */
  requested: string | null;
  storage: IStorageLike;
  /** Sign out of Clerk and go to `redirectUrl` (clerk-js navigates there itself). */
  signOut: (redirectUrl: string) => Promise<unknown>;
  /** Where single-use WebSocket tickets come from (`clerk/api/socket-ticket`). */
  ticketUrl: string;
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
}

export class TabSession {
  constructor(options: ITabSessionOptions) {
    this._tokens = options.tokens;
    this._requested = options.requested;
    this._storage = options.storage;
    this._signOut = options.signOut;
    this._ticketUrl = options.ticketUrl;
    this._fetch = options.fetch ?? ((...args) => fetch(...args));
    this.WebSocket = deferredWebSocketClass(
      url => this._socketUrl(url),
      options.WebSocket ?? WebSocket
    );
    if (typeof BroadcastChannel !== 'undefined') {
      this._channel = new BroadcastChannel(CHANNEL);
      this._channel.onmessage = event => {
        if (event.data === 'signed-out') {
          this.markSignedOut();
        }
      };
    }
  }

  /** Emitted once when the Clerk session is gone (here or in another tab, or revoked). */
  get signedOut(): ISignal<this, void> {
    return this._signedOutSignal;
  }

  /** Emitted once when the person is not a member of the tab's organization. */
  get notMember(): ISignal<this, string> {
    return this._notMemberSignal;
  }

  get isSignedOut(): boolean {
    return this._isSignedOut;
  }

  /** The workspace the person turned out not to be a member of, if any. */
  get notMemberOf(): string | null {
    return this._notMemberOf;
  }

  /** `personal` or an organization id; the default is resolved from the first token. */
  workspace(): Promise<string> {
    if (!this._workspace) {
      this._workspace = this._resolveWorkspace();
    }
    return this._workspace;
  }

  /** A token for the tab's workspace. */
  async token(): Promise<string> {
    return this._guard(this._tokens.getToken(await this.workspace()));
  }

  /** JupyterLab's `fetch`: every request carries the tab's token and workspace. */
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const retry = request.clone();
    const response = await this._send(request, true);
    if (response.status !== 401) {
      return this._checkMembership(response);
    }
    this._tokens.clear(); // the server refused the token: get a new one, once
    const second = await this._send(retry, true);
    if (second.status === 401) {
      this.markSignedOut();
    }
    return this._checkMembership(second);
  };

  /** A request as the person, outside any workspace (their profile, their organizations). */
  async personFetch(url: string): Promise<Response> {
    return this._send(new Request(url), false);
  }

  /** JupyterLab's `WebSocket`: `token` and `workspace` query parameters added on open. */
  readonly WebSocket: typeof WebSocket;

  /**
   * Sign out of Clerk and of this server; other tabs hear it at once. The sign-out callback
   * goes to `logoutUrl` itself (clerk-js does): a second navigation would race the first and,
   * with unsaved work, ask the person twice whether to leave. Only if it fails do we go.
   */
  async signOut(logoutUrl: string): Promise<void> {
    this._leaving = true;
    this._channel?.postMessage('signed-out');
    try {
      await this._signOut(logoutUrl);
    } catch (error) {
      window.location.assign(logoutUrl);
      throw error;
    }
  }

  markSignedOut(): void {
    if (this._isSignedOut) {
      return;
    }
    this._isSignedOut = true;
    if (!this._leaving) {
      this._signedOutSignal.emit();
    }
  }

  private async _resolveWorkspace(): Promise<string> {
    let workspace = this._requested;
    if (workspace === null) {
      const token = await this._guard(this._tokens.getToken(null));
      workspace = organizationOf(decodeClaims(token)) ?? PERSONAL;
    }
    rememberWorkspace(this._storage, workspace);
    return workspace;
  }

  private async _send(request: Request, inWorkspace: boolean): Promise<Response> {
    if (this._isSignedOut) {
      throw new SignedOutError();
    }
    const headers = new Headers(request.headers);
    if (inWorkspace) {
      headers.set('Authorization', `Bearer ${await this.token()}`);
      headers.set(WORKSPACE_HEADER, await this.workspace());
    } else {
      headers.set('Authorization', `Bearer ${await this._guard(this._tokens.getToken(null))}`);
    }
    return this._fetch(new Request(request, { headers }));
  }

  private async _socketUrl(url: string): Promise<string> {
    if (this._isSignedOut) {
      throw new SignedOutError();
    }
    const workspace = await this.workspace();
    return withSocketCredentials(url, await this._socketTicket(), workspace);
  }

  /** A ticket for one WebSocket, so that the session token never sits in a URL. */
  private async _socketTicket(): Promise<string> {
    const response = await this.fetch(this._ticketUrl, { method: 'POST' });
    if (!response.ok) {
      throw new Error(`no WebSocket ticket (${response.status})`);
    }
    return ((await response.json()) as { ticket: string }).ticket;
  }

  private async _checkMembership(response: Response): Promise<Response> {
    if (response.status === 403) {
      const body = await response.clone().text();
      if (/not a member/i.test(body)) {
        this._reportNotMember(await this.workspace());
      }
    }
    return response;
  }

  private async _guard(token: Promise<string>): Promise<string> {
    try {
      return await token;
    } catch (error) {
      if (error instanceof SignedOutError) {
        this.markSignedOut();
      } else if (error instanceof NotAMemberError) {
        this._reportNotMember(error.workspace);
      }
      throw error;
    }
  }

  private _reportNotMember(workspace: string): void {
    if (this._notMemberOf === null) {
      this._notMemberOf = workspace;
      this._notMemberSignal.emit(workspace);
    }
  }

  private readonly _tokens: TokenCache;
  private readonly _requested: string | null;
  private readonly _storage: IStorageLike;
  private readonly _signOut: (redirectUrl: string) => Promise<unknown>;
  private readonly _ticketUrl: string;
  private readonly _fetch: typeof fetch;
  private readonly _channel: BroadcastChannel | null = null;
  private readonly _signedOutSignal = new Signal<this, void>(this);
  private readonly _notMemberSignal = new Signal<this, string>(this);
  private _workspace: Promise<string> | null = null;
  private _isSignedOut = false;
  private _notMemberOf: string | null = null;
  private _leaving = false;
}

/** The two token sources: Clerk's browser SDK, and the local instance's Frontend API. */

import { NotAMemberError, SignedOutError } from './errors';
import { ITokenSource, WorkspaceKey } from './tokens';

/** The part of clerk-js (`window.Clerk`) this extension uses. */
export interface IClerkLike {
  session?: {
    id: string;
    getToken(options?: { organizationId?: string | null }): Promise<string | null>;
  } | null;
  user?: { fullName?: string | null; imageUrl?: string } | null;
  signOut(options?: { redirectUrl?: string }): Promise<unknown>;
  addListener?(listener: (resources: { session?: unknown }) => void): unknown;
}

/** Clerk's error responses: `{status, errors: [{code}]}` on clerk-js errors. */
function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error
    ? Number((error as { status: unknown }).status)
    : undefined;
}

/**
 * `Clerk.session.getToken({ organizationId })`: a token for that organization without
 * changing the session's active one, so tabs in different organizations never fight.
 */
export class ClerkJsSource implements ITokenSource {
  constructor(private readonly _clerk: IClerkLike) {}

  async fetchToken(workspace: WorkspaceKey): Promise<string> {
    const session = this._clerk.session;
    if (!session) {
      throw new SignedOutError();
    }
    const options =
      workspace === null ? {} : { organizationId: workspace === 'personal' ? null : workspace };
    let token: string | null;
    try {
      token = await session.getToken(options);
    } catch (error) {
      const status = statusOf(error);
      if (workspace && workspace !== 'personal' && (status === 403 || status === 404)) {
        throw new NotAMemberError(workspace);
      }
      if (status === 401) {
        throw new SignedOutError();
      }
      throw error;
    }
    if (!token) {
      throw new SignedOutError();
    }
    return token;
  }
}

/**
 * `POST <instance>/v1/client/sessions/{id}/tokens` with `organization_id`, authenticated by
 * the instance's client cookie: what clerk-js does, against the local development instance.
 */
export class LocalInstanceSource implements ITokenSource {
  constructor(
    private readonly _frontendApiUrl: string,
    private readonly _sessionId: string | null,
    private readonly _fetch: typeof fetch = (...args) => fetch(...args)
  ) {}

  async fetchToken(workspace: WorkspaceKey): Promise<string> {
    if (!this._sessionId) {
      throw new SignedOutError();
    }
    const body = new URLSearchParams();
    if (workspace !== null) {
      body.set('organization_id', workspace === 'personal' ? '' : workspace);
    }
    const url = `${this._frontendApiUrl.replace(/\/$/, '')}/v1/client/sessions/${encodeURIComponent(
      this._sessionId
    )}/tokens`;
    const response = await this._fetch(url, { method: 'POST', credentials: 'include', body });
    if (response.ok) {
      const { jwt } = (await response.json()) as { jwt?: unknown };
      if (typeof jwt === 'string' && jwt) {
        return jwt;
      }
      throw new Error('The Clerk instance answered without a token.');
    }
    const detail = await response.text();
    const aboutOrganization = /organization/i.test(detail);
    if (workspace && workspace !== 'personal') {
      if (response.status === 403 || (response.status === 404 && aboutOrganization)) {
        throw new NotAMemberError(workspace);
      }
    }
    if (response.status === 401 || response.status === 404) {
      throw new SignedOutError();
    }
    throw new Error(`The Clerk instance refused a token (${response.status}).`);
  }
}

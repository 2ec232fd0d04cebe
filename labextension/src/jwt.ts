/** Reading (never verifying: the server does that) the claims of a Clerk session token. */

export interface ISessionClaims {
  sid?: string;
  sub?: string;
  iat?: number;
  exp?: number;
  o?: { id?: string; slg?: string };
  org_id?: string;
}

export function decodeClaims(token: string): ISessionClaims {
  const payload = token.split('.')[1];
  if (!payload) {
    throw new Error('not a JWT');
  }
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), c => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as ISessionClaims;
}

/** The organization a token is for (v2 `o.id`, v1 `org_id`), or null for a personal token. */
export function organizationOf(claims: ISessionClaims): string | null {
  return claims.o?.id ?? claims.org_id ?? null;
}

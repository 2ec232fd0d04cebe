/** Test helpers: unsigned JWTs shaped like Clerk session tokens. */

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function fakeToken(claims: Record<string, unknown>): string {
  return `${base64url({ alg: 'RS256' })}.${base64url(claims)}.signature`;
}

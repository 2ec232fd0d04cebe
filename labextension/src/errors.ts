/** Why a session token could not be had: the person is signed out, or not in the org. */

export class SignedOutError extends Error {
  constructor(message = 'You are signed out.') {
    super(message);
    this.name = 'SignedOutError';
  }
}

export class NotAMemberError extends Error {
  constructor(readonly workspace: string) {
    super(`You are not a member of ${workspace}.`);
    this.name = 'NotAMemberError';
  }
}

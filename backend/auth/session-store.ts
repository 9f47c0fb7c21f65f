// The session store: the reads on the hot path (every authenticated request, every login), kept apart from
// the users service's writes so each database can serve them its fastest way without Prisma (~600 µs a
// query). One implementation per database; tokenRequired and the login route only see this interface.
import type { PublicUser } from "../users/user.model";

/** What tokenRequired needs about a token's user, as stored now. Shared by cache hits: never mutated. */
export interface Session {
  user: Readonly<PublicUser>;
  tokenVersion: number;
  /** This token's jti is on the revocation list. */
  revoked: boolean;
}

/** The user a login names, with what the password check and the new token need. */
export interface LoginRecord extends PublicUser {
  tokenVersion: number;
  /** Null for an account without a password (made by Sign in with GitHub). */
  passwordHash: string | null;
}

/** The Prisma models whose rows a Session shows: a write to them must reach every replica's cache. */
export const SESSION_MODELS = ["User", "RevokedToken", "TotpFactor"] as const;

/** A synchronous store (SQLite) answers without a promise: an `await` per request is measurable here. */
export type MaybePromise<T> = T | Promise<T>;

export interface SessionStore {
  /** The user of token `jti` and whether that token is revoked, exactly as stored now; null: no such user. */
  findSession(userId: number, jti: string): MaybePromise<Session | null>;
  /** The account a login names (uids compare case-insensitively), or null. */
  findForLogin(uid: string): Promise<LoginRecord | null>;
  /** Throws when the database cannot be read (health → 503). */
  ping(): MaybePromise<void>;
}

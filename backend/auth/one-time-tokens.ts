// One-time tokens, one table for every purpose (docs/recovery.md › One-time tokens): 32 random bytes handed
// out once (base64url), stored only as their SHA-256, with a purpose, an owner, an expiry and a small JSON
// payload. Spending one is a single conditional delete: of N parallel uses exactly one succeeds, on SQLite
// and on PostgreSQL, on any replica.
import crypto from "node:crypto";
import type { Db } from "../db";

export type TokenPurpose =
  | "password_reset"
  | "email_verify"
  | "mfa_challenge"
  | "oauth_state"
  | "oauth_login"
  | "oauth_link"
  | "webauthn_register"
  | "webauthn_login";

export interface OneTimeTokenRow<T = unknown> {
  userId: number | null;
  data: T;
  attempts: number;
  expiresAt: Date;
}

export const hashToken = (token: string) => crypto.createHash("sha256").update(token).digest("hex");

export type OneTimeTokens = ReturnType<typeof createOneTimeTokens>;

export function createOneTimeTokens({ db, now = Date.now }: { db: Pick<Db, "prisma">; now?: () => number }) {
  const { prisma } = db;
  const live = (token: string, purpose: TokenPurpose) => ({ tokenHash: hashToken(token), purpose, expiresAt: { gt: new Date(now()) } });
  const rowOf = <T>(row: { userId: number | null; data: string | null; attempts: number; expiresAt: Date }): OneTimeTokenRow<T> => ({
    userId: row.userId,
    data: (row.data === null ? null : JSON.parse(row.data)) as T,
    attempts: row.attempts,
    expiresAt: row.expiresAt,
  });
  // Anything that is not a token we could have made is refused before touching the database.
  const wellFormed = (token: unknown): token is string => typeof token === "string" && /^[A-Za-z0-9_-]{43}$/.test(token);

  return {
    /** A new token for `purpose`; the caller hands it out once (a link, a cookie) and it is never stored. */
    async issue(purpose: TokenPurpose, { userId = null, data = null, ttlSeconds }: { userId?: number | null; data?: unknown; ttlSeconds: number }): Promise<string> {
      const token = crypto.randomBytes(32).toString("base64url");
      await prisma.oneTimeToken.create({
        data: { tokenHash: hashToken(token), purpose, userId, data: data === null ? null : JSON.stringify(data), expiresAt: new Date(now() + ttlSeconds * 1000) },
      });
      return token;
    },

    /** A live token's row without spending it (to check what it is for first), or null. */
    async peek<T = unknown>(token: unknown, purpose: TokenPurpose): Promise<OneTimeTokenRow<T> | null> {
      if (!wellFormed(token)) return null;
      const row = await prisma.oneTimeToken.findFirst({ where: live(token, purpose) });
      return row ? rowOf<T>(row) : null;
    },

    /** Spends a live token: its row for exactly one caller, null for every other (unknown, used, expired). */
    async consume<T = unknown>(token: unknown, purpose: TokenPurpose): Promise<OneTimeTokenRow<T> | null> {
      if (!wellFormed(token)) return null;
      const row = await prisma.oneTimeToken.findFirst({ where: live(token, purpose) });
      if (!row) return null;
      const spent = await prisma.oneTimeToken.deleteMany({ where: live(token, purpose) });
      return spent.count === 1 ? rowOf<T>(row) : null;
    },

    /**
     * Counts a wrong attempt against a live token (a wrong code at a challenge). Past `maxAttempts` wrong ones
     * the token is deleted: "exhausted". One conditional update, so parallel wrong attempts cannot exceed it.
     */
    async countFailure(token: unknown, purpose: TokenPurpose, maxAttempts: number): Promise<"counted" | "exhausted"> {
      if (!wellFormed(token)) return "exhausted";
      const counted = await prisma.oneTimeToken.updateMany({ where: { ...live(token, purpose), attempts: { lt: maxAttempts - 1 } }, data: { attempts: { increment: 1 } } });
      if (counted.count === 1) return "counted";
      await prisma.oneTimeToken.deleteMany({ where: { tokenHash: hashToken(token), purpose } });
      return "exhausted";
    },

    /** Drops a user's outstanding tokens of these purposes (a password reset ends the other reset links). */
    async revokeFor(userId: number, purposes: TokenPurpose[]): Promise<number> {
      return (await prisma.oneTimeToken.deleteMany({ where: { userId, purpose: { in: purposes } } })).count;
    },

    /** Removes expired rows (housekeeping). */
    async purgeExpired(): Promise<number> {
      return (await prisma.oneTimeToken.deleteMany({ where: { expiresAt: { lte: new Date(now()) } } })).count;
    },
  };
}

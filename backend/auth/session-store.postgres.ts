// The session store on PostgreSQL: named (prepared) statements on the shared pg pool, rows as arrays and dates
// formatted by the database, so the hot path does no Prisma and no Date work. With Redis, lookups are cached
// per replica and kept exact by the shared version (session-version.ts); without it (SINGLE_INSTANCE), every
// request reads its row.
import type { PostgresDb } from "../db";
import { uidKeyOf, type Role } from "../users/user.model";
import type { LoginRecord, Session, SessionStore } from "./session-store";
import type { SessionVersion } from "./session-version";

const CACHED_SESSIONS = 10_000;
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
// The public user (user.model.ts) and its token version, in this order.
const USER_COLUMNS = `id, uid, name, email, role, "emailVerifiedAt" IS NOT NULL,
  EXISTS (SELECT 1 FROM "TotpFactor" f WHERE f."userId" = "User".id AND f."confirmedAt" IS NOT NULL),
  to_char("createdAt", ${ISO}), to_char("updatedAt", ${ISO}), "tokenVersion"`;

const SESSION_LOOKUP = {
  name: "crossauth_session_lookup",
  text: `SELECT ${USER_COLUMNS}, EXISTS (SELECT 1 FROM "RevokedToken" WHERE jti = $1) FROM "User" WHERE id = $2`,
  rowMode: "array" as const,
};
const LOGIN_LOOKUP = {
  name: "crossauth_login_lookup",
  text: `SELECT ${USER_COLUMNS}, "passwordHash" FROM "User" WHERE "uidKey" = $1`,
  rowMode: "array" as const,
};

type UserColumns = [id: number, uid: string, name: string, email: string | null, role: Role, emailVerified: boolean, mfaEnabled: boolean, createdAt: string, updatedAt: string, tokenVersion: number];

const userOf = ([id, uid, name, email, role, emailVerified, mfaEnabled, createdAt, updatedAt]: readonly [...UserColumns, ...unknown[]]) => ({ id, uid, name, email, role, emailVerified, mfaEnabled, createdAt, updatedAt });

export function createPostgresSessionStore(db: Pick<PostgresDb, "pool">, version: SessionVersion | null): SessionStore {
  const { pool } = db;
  const sessions = new Map<string, Session>();
  let sessionsVersion: string | null = null;

  async function lookup(userId: number, jti: string): Promise<Session | null> {
    const { rows } = await pool.query<[...UserColumns, boolean]>({ ...SESSION_LOOKUP, values: [jti, userId] });
    if (rows.length === 0) return null;
    const row = rows[0];
    return Object.freeze({ user: Object.freeze(userOf(row)), tokenVersion: row[9], revoked: row[10] });
  }

  return {
    async findSession(userId, jti) {
      const current = version ? await version.read() : null;
      if (current === null) return lookup(userId, jti);
      if (current !== sessionsVersion) {
        sessions.clear();
        sessionsVersion = current;
      }
      const cached = sessions.get(jti);
      if (cached !== undefined && cached.user.id === userId) return cached;
      const session = await lookup(userId, jti);
      // Filled under the version read before the lookup: a change committed meanwhile has replaced it already.
      if (session && sessionsVersion === current) {
        if (sessions.size >= CACHED_SESSIONS) sessions.delete(sessions.keys().next().value as string);
        sessions.set(jti, session);
      }
      return session;
    },

    async findForLogin(uid) {
      const { rows } = await pool.query<[...UserColumns, string | null]>({ ...LOGIN_LOOKUP, values: [uidKeyOf(uid)] });
      if (rows.length === 0) return null;
      const row = rows[0];
      return { ...userOf(row), tokenVersion: row[9], passwordHash: row[10] } satisfies LoginRecord;
    },

    async ping() {
      await pool.query("SELECT 1");
    },
  };
}

// The session store on SQLite: prepared statements on the raw better-sqlite3 connection (a few µs), and a
// cache of session lookups that is exact because it is dropped whenever the database changes.
import type { SqliteDb } from "../db";
import { uidKeyOf, type Role } from "../users/user.model";
import type { LoginRecord, Session, SessionStore } from "./session-store";

/** How many sessions the lookup cache keeps (one per token in use, ~0.4 kB each); the oldest leaves first. */
const CACHED_SESSIONS = 10_000;

/**
 * A stored DateTime as `toISOString()` spells it. The Prisma adapter stores `toISOString()` with the `Z`
 * written `+00:00`, so undoing that is exact and spares the per-request path two Date round trips.
 */
export function storedDateToIso(stored: string): string {
  return stored.length === 29 && stored.endsWith("+00:00") ? `${stored.slice(0, 23)}Z` : new Date(stored).toISOString();
}

// The public user (user.model.ts) and its token version, in this order.
const USER_COLUMNS = `id, uid, name, email, role, emailVerifiedAt IS NOT NULL,
  EXISTS (SELECT 1 FROM TotpFactor WHERE TotpFactor.userId = User.id AND confirmedAt IS NOT NULL), createdAt, updatedAt, tokenVersion`;
type UserColumns = [id: number, uid: string, name: string, email: string | null, role: Role, emailVerified: number, mfaEnabled: number, createdAt: string, updatedAt: string, tokenVersion: number];

function userOf([id, uid, name, email, role, emailVerified, mfaEnabled, createdAt, updatedAt]: readonly [...UserColumns, ...unknown[]]) {
  return { id, uid, name, email, role, emailVerified: emailVerified === 1, mfaEnabled: mfaEnabled === 1, createdAt: storedDateToIso(createdAt), updatedAt: storedDateToIso(updatedAt) };
}

export function createSqliteSessionStore(db: Pick<SqliteDb, "raw" | "commits">): SessionStore {
  const { raw, commits } = db;
  // Raw mode (rows as arrays): better-sqlite3 builds them faster than objects, and this runs on cache misses.
  const sessionLookup = raw
    .prepare<[string, number]>(
      `SELECT ${USER_COLUMNS}, EXISTS (SELECT 1 FROM RevokedToken WHERE jti = ?) FROM User WHERE id = ?`,
    )
    .raw(true);
  /**
   * Session lookups are kept until the database changes, by anyone: the commit watch (db/sqlite-commits.ts)
   * moves with every commit of any connection (Prisma's in this process, the CLI, a second API process, a
   * hand edit), and it is read before the lookup it guards. A hit is thus exactly what the lookup would read
   * now: deletions, demotions and revocations are refused at once.
   */
  const sessions = new Map<string, Session>();
  let sessionsVersion = commits.version();
  const loginLookup = raw.prepare<[string]>(`SELECT ${USER_COLUMNS}, passwordHash FROM User WHERE uidKey = ?`).raw(true);
  const ping = raw.prepare("SELECT count(*) AS n FROM (SELECT 1 FROM User LIMIT 1)");

  return {
    findSession(userId, jti) {
      const version = commits.version();
      if (version !== sessionsVersion) {
        sessions.clear();
        sessionsVersion = version;
      }
      const cached = sessions.get(jti);
      if (cached !== undefined && cached.user.id === userId) return cached;

      const row = sessionLookup.get(jti, userId) as [...UserColumns, revoked: number] | undefined;
      if (!row) return null;
      const session = Object.freeze({ user: Object.freeze(userOf(row)), tokenVersion: row[9], revoked: row[10] === 1 });
      if (sessions.size >= CACHED_SESSIONS) sessions.delete(sessions.keys().next().value as string);
      sessions.set(jti, session);
      return session;
    },

    // One indexed read on the raw connection: through Prisma it held the event loop ~250 µs per login.
    async findForLogin(uid) {
      const row = loginLookup.get(uidKeyOf(uid)) as [...UserColumns, passwordHash: string | null] | undefined;
      return row ? { ...userOf(row), tokenVersion: row[9], passwordHash: row[10] } : null;
    },

    ping() {
      ping.get();
    },
  };
}

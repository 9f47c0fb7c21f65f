// Users and sessions in the database: the only module that queries the User and RevokedToken tables.
// Writes go through Prisma; the per-request session lookup reads the raw connection, through a cache that is
// dropped whenever the database changes.
import type { Db } from "../db";
import type { Hasher } from "../auth/passwords";
import { AppError } from "../errors";
import { Prisma } from "../generated/prisma/client";
import type { Role } from "./users.schemas";

export interface PublicUser {
  id: number;
  uid: string;
  name: string;
  email: string | null;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

/** What tokenRequired needs about a token's user, as stored now. Shared by cache hits: never mutated. */
export interface Session {
  user: Readonly<PublicUser>;
  tokenVersion: number;
  /** This token's jti is on the revocation list. */
  revoked: boolean;
}

/** How many sessions the lookup cache keeps (one per token in use, ~0.4 kB each); the oldest leaves first. */
const CACHED_SESSIONS = 10_000;

const publicFields = { id: true, uid: true, name: true, email: true, role: true, createdAt: true, updatedAt: true } as const;

type PrismaPublicUser = { id: number; uid: string; name: string; email: string | null; role: string; createdAt: Date; updatedAt: Date };

/** Picks the public fields only: whatever else a query selected (hash, token version) never leaks. */
function toPublic(u: PrismaPublicUser): PublicUser {
  return {
    id: u.id,
    uid: u.uid,
    name: u.name,
    email: u.email,
    role: u.role as Role,
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
}

/**
 * A stored DateTime as `toISOString()` spells it. The Prisma adapter stores `toISOString()` with the `Z`
 * written `+00:00`, so undoing that is exact and spares the per-request path two Date round trips.
 */
function storedDateToIso(stored: string): string {
  return stored.length === 29 && stored.endsWith("+00:00") ? `${stored.slice(0, 23)}Z` : new Date(stored).toISOString();
}

const uidKeyOf = (uid: string) => uid.toLowerCase();

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";
}
function isNotFound(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2025";
}

export interface UserPatch {
  uid?: string;
  name?: string;
  email?: string | null;
  role?: Role;
  password?: string;
}

export type UsersService = ReturnType<typeof createUsersService>;

export function createUsersService({ db, hasher, now = Date.now }: { db: Db; hasher: Hasher; now?: () => number }) {
  const { prisma, raw } = db;
  // Raw mode (rows as arrays): better-sqlite3 builds them faster than objects, and this runs on cache misses.
  const sessionLookup = raw
    .prepare<[string, number]>(
      `SELECT id, uid, name, email, role, createdAt, updatedAt, tokenVersion,
              EXISTS (SELECT 1 FROM RevokedToken WHERE jti = ?) AS revoked
         FROM User WHERE id = ?`,
    )
    .raw(true);
  /**
   * Session lookups are kept until the database changes, by anyone. SQLite's `data_version` (~0.5 µs, a
   * third of the lookup) moves whenever another connection commits (Prisma's in this process, the CLI, a
   * second API process); the raw connection is query-only, so no write escapes it. A hit is thus exactly
   * what the lookup would read now: deletions, demotions and revocations are refused at once, everywhere.
   */
  const dataVersion = raw.prepare("PRAGMA data_version").pluck();
  const sessions = new Map<string, Session>();
  let sessionsVersion: unknown = dataVersion.get();
  const loginLookup = raw.prepare<[string]>(
    "SELECT id, uid, name, email, role, createdAt, updatedAt, tokenVersion, passwordHash FROM User WHERE uidKey = ?",
  );
  const ping = raw.prepare("SELECT count(*) AS n FROM (SELECT 1 FROM User LIMIT 1)");

  async function findOrThrow(uid: string) {
    const user = await prisma.user.findUnique({ where: { uidKey: uidKeyOf(uid) }, select: { ...publicFields, tokenVersion: true } });
    if (!user) throw new AppError("USER_NOT_FOUND", `User '${uid}' not found`);
    return user;
  }

  /**
   * Runs a write that takes admin rights away from `userId` only if another admin remains (nobody could
   * manage users any more otherwise). Check and write share one transaction: two admins demoting or
   * deleting each other at the same moment cannot both pass the check.
   */
  function keepingAnotherAdmin<T>(userId: number, write: (client: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return prisma.$transaction(async (tx) => {
      const others = await tx.user.count({ where: { role: "Admin", id: { not: userId } } });
      if (others === 0) throw new AppError("LAST_ADMIN");
      return write(tx);
    });
  }

  async function applyPatch(current: { id: number; role: string }, patch: UserPatch) {
    const data: Prisma.UserUpdateInput = {};
    if (patch.uid !== undefined) Object.assign(data, { uid: patch.uid, uidKey: uidKeyOf(patch.uid) });
    if (patch.name !== undefined) data.name = patch.name;
    if (patch.email !== undefined) data.email = patch.email;
    if (patch.role !== undefined && patch.role !== current.role) data.role = patch.role;
    if (patch.password !== undefined) data.passwordHash = await hasher.hash(patch.password);
    // A new role or password ends every existing session of this user (SPEC §5.2).
    if (data.role !== undefined || data.passwordHash !== undefined) data.tokenVersion = { increment: 1 };
    const update = (client: Prisma.TransactionClient) => client.user.update({ where: { id: current.id }, data, select: { ...publicFields, tokenVersion: true } });
    try {
      const updated = data.role !== undefined && current.role === "Admin" ? await keepingAnotherAdmin(current.id, update) : await update(prisma);
      return { user: toPublic(updated), tokenVersion: updated.tokenVersion };
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError("UID_TAKEN", `The user id '${patch.uid}' is already taken`);
      if (isNotFound(err)) throw new AppError("USER_NOT_FOUND");
      throw err;
    }
  }

  return {
    /** Hot path of tokenRequired: the user of token `jti` and whether it is revoked, as stored now. */
    findSession(userId: number, jti: string): Session | null {
      const version = dataVersion.get();
      if (version !== sessionsVersion) {
        sessions.clear();
        sessionsVersion = version;
      }
      const cached = sessions.get(jti);
      if (cached !== undefined && cached.user.id === userId) return cached;

      const row = sessionLookup.get(jti, userId) as
        | [id: number, uid: string, name: string, email: string | null, role: Role, createdAt: string, updatedAt: string, tokenVersion: number, revoked: number]
        | undefined;
      if (!row) return null;
      const [id, uid, name, email, role, createdAt, updatedAt, tokenVersion, revoked] = row;
      const user = Object.freeze({ id, uid, name, email, role, createdAt: storedDateToIso(createdAt), updatedAt: storedDateToIso(updatedAt) });
      const session = Object.freeze({ user, tokenVersion, revoked: revoked === 1 });
      if (sessions.size >= CACHED_SESSIONS) sessions.delete(sessions.keys().next().value as string);
      sessions.set(jti, session);
      return session;
    },

    /** Throws when the database cannot be read (health check → 503). */
    ping(): void {
      ping.get();
    },

    /** One indexed read on the raw connection: through Prisma it held the event loop ~250 µs per login. */
    async findForLogin(uid: string) {
      const row = loginLookup.get(uidKeyOf(uid)) as (PublicUser & { tokenVersion: number; passwordHash: string }) | undefined;
      return row ? { ...row, createdAt: storedDateToIso(row.createdAt), updatedAt: storedDateToIso(row.updatedAt) } : null;
    },

    async verifyPassword(userId: number, password: string): Promise<boolean> {
      const user = await prisma.user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
      if (!user) return hasher.compareDummy(password);
      return hasher.compare(password, user.passwordHash);
    },

    async create(input: { uid: string; name: string; password: string; email?: string | null; role?: Role }): Promise<PublicUser> {
      const passwordHash = await hasher.hash(input.password);
      try {
        const user = await prisma.user.create({
          data: {
            uid: input.uid,
            uidKey: uidKeyOf(input.uid),
            name: input.name,
            email: input.email ?? null,
            role: input.role ?? "User",
            passwordHash,
          },
          select: publicFields,
        });
        return toPublic(user);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError("UID_TAKEN", `The user id '${input.uid}' is already taken`);
        throw err;
      }
    },

    /** Creates the user unless the uid exists; never overwrites. Returns whether it was created. */
    async ensure(input: { uid: string; name: string; password: string; role: Role }): Promise<boolean> {
      if (await prisma.user.findUnique({ where: { uidKey: uidKeyOf(input.uid) }, select: { id: true } })) return false;
      try {
        await this.create(input);
        return true;
      } catch (err) {
        if (err instanceof AppError && err.code === "UID_TAKEN") return false;
        throw err;
      }
    },

    async list(): Promise<PublicUser[]> {
      const users = await prisma.user.findMany({ select: publicFields, orderBy: { id: "asc" } });
      return users.map(toPublic);
    },

    async getByUid(uid: string): Promise<PublicUser> {
      return toPublic(await findOrThrow(uid));
    },

    async updateById(userId: number, patch: UserPatch) {
      const current = await prisma.user.findUnique({ where: { id: userId }, select: { id: true, role: true } });
      if (!current) throw new AppError("USER_NOT_FOUND");
      return applyPatch(current, patch);
    },

    async updateByUid(uid: string, patch: UserPatch) {
      return applyPatch(await findOrThrow(uid), patch);
    },

    async deleteByUid(uid: string): Promise<PublicUser> {
      const user = await findOrThrow(uid);
      const remove = (client: Prisma.TransactionClient) => client.user.delete({ where: { id: user.id } });
      try {
        await (user.role === "Admin" ? keepingAnotherAdmin(user.id, remove) : remove(prisma));
      } catch (err) {
        if (isNotFound(err)) throw new AppError("USER_NOT_FOUND", `User '${uid}' not found`);
        throw err;
      }
      return toPublic(user);
    },

    /** Logout: this one token stops working, and stays refused across restarts until it expires. */
    async revokeToken(jti: string, userId: number, expSeconds: number) {
      const nowDate = new Date(now());
      await prisma.$transaction([
        prisma.revokedToken.deleteMany({ where: { expiresAt: { lt: nowDate } } }),
        prisma.revokedToken.upsert({
          where: { jti },
          create: { jti, userId, expiresAt: new Date(expSeconds * 1000) },
          update: {},
        }),
      ]);
    },

    /** Logout everywhere: every token minted before now carries an older version and is refused. */
    async revokeAllSessions(userId: number): Promise<number> {
      const user = await prisma.user.update({ where: { id: userId }, data: { tokenVersion: { increment: 1 } }, select: { tokenVersion: true } });
      return user.tokenVersion;
    },
  };
}

// Users and revocations through Prisma: every write to the User and RevokedToken tables, the admin's
// reads, and the last-admin rule. The per-request reads are the session store's (auth/session-store.ts).
import { serializable, type Db } from "../db";
import type { Hasher } from "../auth/passwords";
import { AppError } from "../errors";
import { fieldError } from "../http/parse";
import { Prisma } from "../../generated/sqlite/client";
import { uidKeyOf, type PublicUser, type Role } from "./user.model";

export const publicFields = {
  id: true,
  uid: true,
  name: true,
  email: true,
  role: true,
  emailVerifiedAt: true,
  totpFactor: { select: { confirmedAt: true } },
  createdAt: true,
  updatedAt: true,
} as const;

type PrismaPublicUser = {
  id: number;
  uid: string;
  name: string;
  email: string | null;
  role: string;
  emailVerifiedAt: Date | null;
  totpFactor: { confirmedAt: Date | null } | null;
  createdAt: Date;
  updatedAt: Date;
};

/** Picks the public fields only: whatever else a query selected (hash, token version) never leaks. */
export function toPublic(u: PrismaPublicUser): PublicUser {
  return {
    id: u.id,
    uid: u.uid,
    name: u.name,
    email: u.email,
    role: u.role as Role,
    emailVerified: u.emailVerifiedAt !== null,
    mfaEnabled: u.totpFactor?.confirmedAt != null,
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
}

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
  /** An admin marks the (new or current) address verified (docs/recovery.md). */
  emailVerified?: true;
}

export type UsersService = ReturnType<typeof createUsersService>;

export function createUsersService({ db, hasher, now = Date.now }: { db: Db; hasher: Hasher; now?: () => number }) {
  const { prisma } = db;

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
    return serializable(db, async (tx) => {
      const others = await tx.user.count({ where: { role: "Admin", id: { not: userId } } });
      if (others === 0) throw new AppError("LAST_ADMIN");
      return write(tx);
    });
  }

  /** Every new password passes the whole rule (password-policy.js) here, whichever route or command sets it. */
  async function hashNewPassword(password: string, uids: string[]): Promise<string> {
    const problem = await hasher.checkStrength(password, uids);
    if (problem) throw fieldError("password", problem);
    return hasher.hash(password);
  }

  async function applyPatch(current: { id: number; uid: string; role: string; email: string | null }, patch: UserPatch) {
    const data: Prisma.UserUpdateInput = {};
    if (patch.uid !== undefined) Object.assign(data, { uid: patch.uid, uidKey: uidKeyOf(patch.uid) });
    if (patch.name !== undefined) data.name = patch.name;
    if (patch.email !== undefined && patch.email !== current.email) {
      // A new address is unproven (the same one sent again by a profile form keeps its proof), and links sent to the old one stop working.
      Object.assign(data, { email: patch.email, emailKey: patch.email?.toLowerCase() ?? null, emailVerifiedAt: null });
      data.oneTimeTokens = { deleteMany: { purpose: { in: ["email_verify", "password_reset"] } } };
    }
    if (patch.emailVerified) {
      if (!(patch.email !== undefined ? patch.email : current.email)) throw new AppError("EMAIL_MISSING", "There is no e-mail address to mark verified");
      data.emailVerifiedAt = new Date(now());
    }
    if (patch.role !== undefined && patch.role !== current.role) data.role = patch.role;
    if (patch.password !== undefined) data.passwordHash = await hashNewPassword(patch.password, [current.uid, patch.uid ?? ""]);
    // A new role or password ends every existing session of this user (docs/api.md › Routes).
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
    async hasPassword(userId: number): Promise<boolean> {
      const user = await prisma.user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
      return Boolean(user?.passwordHash);
    },

    /** The ways an account can sign in: removing the last one is refused (LAST_LOGIN_METHOD). */
    async loginMethods(userId: number): Promise<{ password: boolean; passkeys: number; github: boolean }> {
      const user = await prisma.user.findUnique({
        where: { id: userId },
        select: { passwordHash: true, _count: { select: { passkeys: true, oauthAccounts: true } } },
      });
      if (!user) throw new AppError("USER_NOT_FOUND");
      return { password: Boolean(user.passwordHash), passkeys: user._count.passkeys, github: user._count.oauthAccounts > 0 };
    },

    async verifyPassword(userId: number, password: string): Promise<boolean> {
      const user = await prisma.user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
      // No account, or one without a password (made by Sign in with GitHub): the same cost, the same "no".
      if (!user?.passwordHash) return hasher.compareDummy(password);
      return hasher.compare(password, user.passwordHash);
    },

    /**
     * A new account. `trusted` skips the guessability rule: only for the development seed's well-known
     * accounts (config.ts refuses them in production).
     */
    async create(input: { uid: string; name: string; password: string; email?: string | null; role?: Role }, { trusted = false } = {}): Promise<PublicUser> {
      const passwordHash = trusted ? await hasher.hash(input.password) : await hashNewPassword(input.password, [input.uid]);
      try {
        const user = await prisma.user.create({
          data: {
            uid: input.uid,
            uidKey: uidKeyOf(input.uid),
            name: input.name,
            email: input.email ?? null,
            emailKey: input.email?.toLowerCase() ?? null,
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
    async ensure(input: { uid: string; name: string; password: string; role: Role }, options: { trusted?: boolean } = {}): Promise<boolean> {
      if (await prisma.user.findUnique({ where: { uidKey: uidKeyOf(input.uid) }, select: { id: true } })) return false;
      try {
        await this.create(input, options);
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
      const current = await prisma.user.findUnique({ where: { id: userId }, select: { id: true, uid: true, role: true, email: true } });
      if (!current) throw new AppError("USER_NOT_FOUND");
      return applyPatch(current, patch);
    },

    async updateByUid(uid: string, patch: UserPatch) {
      return applyPatch(await findOrThrow(uid), patch);
    },

    async deleteByUid(uid: string): Promise<PublicUser> {
      // The role is read in the transaction that deletes: a promotion committed in between cannot slip past
      // the last-admin rule.
      const user = await serializable(db, async (tx) => {
        const found = await tx.user.findUnique({ where: { uidKey: uidKeyOf(uid) }, select: publicFields });
        if (!found) throw new AppError("USER_NOT_FOUND", `User '${uid}' not found`);
        if (found.role === "Admin" && (await tx.user.count({ where: { role: "Admin", id: { not: found.id } } })) === 0) {
          throw new AppError("LAST_ADMIN");
        }
        await tx.user.delete({ where: { id: found.id } });
        return found;
      });
      return toPublic(user);
    },

    /**
     * After a successful login with a hash made at another cost (BCRYPT_ROUNDS changed), store a hash at the
     * configured cost: unknown uids are compared against a dummy hash of that cost, so old costs would let
     * timing tell real accounts apart. Only if the hash is still the one checked (no change in between).
     */
    async rehashIfNeeded(userId: number, checkedHash: string, password: string): Promise<boolean> {
      if (!hasher.needsRehash(checkedHash)) return false;
      const passwordHash = await hasher.hash(password);
      const { count } = await prisma.user.updateMany({ where: { id: userId, passwordHash: checkedHash }, data: { passwordHash } });
      return count === 1;
    },

    /** Logout: this one token stops working, and stays refused across restarts until it expires. */
    async revokeToken(jti: string, userId: number, expSeconds: number) {
      await prisma.revokedToken.upsert({ where: { jti }, create: { jti, userId, expiresAt: new Date(expSeconds * 1000) }, update: {} });
      // Rows of tokens that have expired anyway are useless: each logout sweeps them.
      await prisma.revokedToken.deleteMany({ where: { expiresAt: { lt: new Date(now()) } } });
    },

    /** Logout everywhere: every token minted before now carries an older version and is refused. */
    async revokeAllSessions(userId: number): Promise<number> {
      const user = await prisma.user.update({ where: { id: userId }, data: { tokenVersion: { increment: 1 } }, select: { tokenVersion: true } });
      return user.tokenVersion;
    },
  };
}

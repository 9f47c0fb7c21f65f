// Two-factor authentication (docs/two-factor.md): TOTP factors (RFC 6238) sealed at rest, their recovery codes,
// and the half-finished sign-in between the first step (password, GitHub) and the code. Every "use once" here is
// one conditional statement, so parallel requests — on one replica or several — get exactly one success.
import crypto from "node:crypto";
import type { ParameterizedContext } from "koa";
import type { Logger } from "pino";
import * as OTPAuth from "otpauth";
import QRCode from "qrcode";
import type { Config } from "../config";
import { serializable, type Db } from "../db";
import { AppError } from "../errors";
import type { AppState } from "../http/state";
import type { OneTimeTokens } from "../auth/one-time-tokens";
import type { UsersService } from "../users/users.service";
import { publicFields, toPublic } from "../users/users.service";
import type { PublicUser } from "../users/user.model";
import { uidKeyOf } from "../users/user.model";
import { createChallengeCookie } from "./challenge-cookie";
import { generateRecoveryCodes, hashRecoveryCode, normaliseRecoveryCode } from "./recovery-codes";
import { createSealer, UnsealError, type Sealer } from "./sealing";

/** RFC 6238 as every authenticator app reads it: SHA-1, 6 digits, 30 s. */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** Codes of the previous and the next step pass too: clocks drift, people type slowly. */
const WINDOW_STEPS = 1;
const SECRET_BYTES = 20; // 160 bits, RFC 4226's recommendation
const RECOVERY_KEY_BYTES = 32;
/** Wrong codes one challenge allows; the last one deletes it (start again with the password). */
export const CHALLENGE_MAX_ATTEMPTS = 5;
export const MFA_METHODS = ["totp", "recovery_code"] as const;

export type SecondFactorMethod = (typeof MFA_METHODS)[number];
export type SecondFactorInput = { code?: string; recoveryCode?: string };
/** How the first step of a sign-in was done (kept with its challenge, logged when it completes). */
export type FirstStep = "password" | "github";

/** What a challenge row remembers about the sign-in it finishes. */
interface ChallengeData {
  via: FirstStep;
  /** The account's token version at the first step: a password or role change since then ends the challenge. */
  ver: number | null;
}

export interface MfaDeps {
  config: Pick<Config, "dataKeys" | "mfa" | "cookiePartitioned">;
  db: Db;
  oneTimeTokens: OneTimeTokens;
  users: Pick<UsersService, "revokeAllSessions">;
  logger: Logger;
  now?: () => number;
}

export type MfaService = ReturnType<typeof createMfaService>;

const aad = {
  secret: (userId: number) => `totp:${userId}`,
  recoveryKey: (userId: number) => `recovery:${userId}`,
};

const toArrayBuffer = (bytes: Buffer) => new Uint8Array(bytes).buffer;

export function createMfaService({ config, db, oneTimeTokens, users, logger, now = Date.now }: MfaDeps) {
  const { prisma } = db;
  const sealer: Sealer | null = config.dataKeys ? createSealer(config.dataKeys) : null;
  const challengeCookie = createChallengeCookie(config);

  function requireSealer(): Sealer {
    if (!sealer) throw new AppError("MFA_UNAVAILABLE", "Two-factor authentication is not available: this server has no DATA_ENCRYPTION_KEY");
    return sealer;
  }

  const totpOf = (secret: Buffer, label = "") =>
    new OTPAuth.TOTP({ issuer: config.mfa.issuer, label, algorithm: "SHA1", digits: DIGITS, period: PERIOD_SECONDS, secret: new OTPAuth.Secret({ buffer: toArrayBuffer(secret) }) });

  /** The time step `code` belongs to (±1 around now), or null: constant-time comparison inside otpauth. */
  function stepOf(secret: Buffer, code: string): number | null {
    const timestamp = now();
    const totp = totpOf(secret);
    const delta = totp.validate({ token: code, timestamp, window: WINDOW_STEPS });
    return delta === null ? null : totp.counter({ timestamp }) + delta;
  }

  type FactorRow = { userId: number; secretSealed: string; recoveryKeySealed: string; confirmedAt: Date | null; lastUsedStep: number | null };

  /**
   * The factor's secret and recovery key. One sealed with an older key is sealed again with the current one
   * (only if the row still holds what was read: a concurrent re-enrolment wins). A key this server does not
   * have is a configuration fault: 503, logged with the fix.
   */
  async function openFactor(factor: FactorRow): Promise<{ secret: Buffer; recoveryKey: Buffer }> {
    const s = requireSealer();
    let secret, recoveryKey;
    try {
      secret = s.open(factor.secretSealed, aad.secret(factor.userId));
      recoveryKey = s.open(factor.recoveryKeySealed, aad.recoveryKey(factor.userId));
    } catch (err) {
      if (!(err instanceof UnsealError)) throw err;
      logger.error({ userId: factor.userId, reason: err.reason }, `cannot open a two-factor secret: ${err.message}`);
      throw new AppError("MFA_UNAVAILABLE", "Two-factor codes cannot be checked right now: the server's DATA_ENCRYPTION_KEY does not open this account's secret");
    }
    if (secret.stale || recoveryKey.stale) {
      await prisma.totpFactor.updateMany({
        where: { userId: factor.userId, secretSealed: factor.secretSealed, recoveryKeySealed: factor.recoveryKeySealed },
        data: { secretSealed: s.seal(secret.plaintext, aad.secret(factor.userId)), recoveryKeySealed: s.seal(recoveryKey.plaintext, aad.recoveryKey(factor.userId)) },
      });
    }
    return { secret: secret.plaintext, recoveryKey: recoveryKey.plaintext };
  }

  const confirmedFactor = (userId: number) => prisma.totpFactor.findFirst({ where: { userId, confirmedAt: { not: null } } });

  /** Ten new codes for this key, as shown, and the rows that store them (hashed). */
  function newRecoveryCodes(userId: number, recoveryKey: Buffer) {
    const codes = generateRecoveryCodes();
    const rows = codes.map((code) => ({ userId, codeHash: hashRecoveryCode(recoveryKey, normaliseRecoveryCode(code) as string) }));
    return { codes, rows };
  }

  async function userForLogin(userId: number): Promise<(PublicUser & { tokenVersion: number }) | null> {
    const found = await prisma.user.findUnique({ where: { id: userId }, select: { ...publicFields, tokenVersion: true } });
    return found ? { ...toPublic(found), tokenVersion: found.tokenVersion } : null;
  }

  /** Removes a user's factor, codes and open challenges; true when two-factor was on. */
  async function removeFactor(userId: number): Promise<boolean> {
    const removed = await prisma.$transaction([
      prisma.totpFactor.deleteMany({ where: { userId, confirmedAt: { not: null } } }),
      prisma.totpFactor.deleteMany({ where: { userId } }),
      prisma.recoveryCode.deleteMany({ where: { userId } }),
    ]);
    await oneTimeTokens.revokeFor(userId, ["mfa_challenge"]);
    return removed[0].count > 0;
  }

  async function checkSecondFactor(userId: number, { code, recoveryCode }: SecondFactorInput, spend: boolean): Promise<SecondFactorMethod | null> {
    const typedCode = code?.replace(/\s+/g, "");
    const totpCode = typedCode && /^\d{6}$/.test(typedCode) ? typedCode : null;
    const normalised = totpCode === null && recoveryCode !== undefined ? normaliseRecoveryCode(recoveryCode) : null;
    if (totpCode === null && normalised === null) return null;
    const factor = await confirmedFactor(userId);
    if (!factor) return null;
    const { secret, recoveryKey } = await openFactor(factor);
    if (totpCode !== null) {
      const step = stepOf(secret, totpCode);
      if (step === null) return null;
      const unused = { userId, confirmedAt: { not: null }, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] };
      if (!spend) return (await prisma.totpFactor.count({ where: unused })) === 1 ? "totp" : null;
      // RFC 6238 §5.2: a code is accepted once. The claim is the check: of N parallel uses one updates the row.
      const claimed = await prisma.totpFactor.updateMany({ where: unused, data: { lastUsedStep: step } });
      return claimed.count === 1 ? "totp" : null;
    }
    const unspent = { userId, codeHash: hashRecoveryCode(recoveryKey, normalised as string), usedAt: null };
    if (!spend) return (await prisma.recoveryCode.count({ where: unspent })) === 1 ? "recovery_code" : null;
    const spent = await prisma.recoveryCode.updateMany({ where: unspent, data: { usedAt: new Date(now()) } });
    return spent.count === 1 ? "recovery_code" : null;
  }

  return {
    /** False when the server has no DATA_ENCRYPTION_KEY (production without one): enrolment answers 503. */
    available: sealer !== null,
    challengeCookie,

    /**
     * The end of a first step (password, GitHub) for an account with two-factor on: a one-time challenge bound
     * to the user, its cookie on this response (so it lands in the page's partition), and 401 MFA_REQUIRED
     * instead of a session. Never returns.
     */
    async requireSecondFactor(ctx: ParameterizedContext<AppState>, user: { id: number; uid: string; tokenVersion?: number }, via: FirstStep = "password"): Promise<never> {
      const data: ChallengeData = { via, ver: user.tokenVersion ?? null };
      const token = await oneTimeTokens.issue("mfa_challenge", { userId: user.id, data, ttlSeconds: config.mfa.challengeTtlSeconds });
      challengeCookie.set(ctx, token);
      ctx.state.log.info({ event: "login", outcome: "second_factor_required", uid: user.uid, ...(via === "password" ? {} : { via }) }, "password accepted; second factor required");
      throw new AppError("MFA_REQUIRED", undefined, { methods: [...MFA_METHODS], expiresIn: config.mfa.challengeTtlSeconds });
    },

    /**
     * Checks a second factor of `userId` (two-factor on): a TOTP code within ±1 step whose step is then claimed
     * (one conditional update: that code, or an older one, never works again, on any replica), or a recovery
     * code, spent by one conditional update. Null when wrong, already used, or absent. Does not count failures:
     * callers wrap it in accountLock.check.
     */
    verifySecondFactor(userId: number, input: SecondFactorInput): Promise<SecondFactorMethod | null> {
      return checkSecondFactor(userId, input, true);
    },

    /**
     * The same check without using the code up: for a change that needs a code and a password, so that a wrong
     * password does not cost a recovery code. Spend it with verifySecondFactor once everything else passed.
     */
    peekSecondFactor(userId: number, input: SecondFactorInput): Promise<SecondFactorMethod | null> {
      return checkSecondFactor(userId, input, false);
    },

    /** Whether two-factor is on, and how many recovery codes are left. */
    async status(userId: number): Promise<{ enabled: boolean; recoveryCodesLeft: number }> {
      const factor = await confirmedFactor(userId);
      if (!factor) return { enabled: false, recoveryCodesLeft: 0 };
      return { enabled: true, recoveryCodesLeft: await prisma.recoveryCode.count({ where: { userId, usedAt: null } }) };
    },

    /**
     * Starts (or restarts) enrolment: a new secret, stored sealed and pending until a first code confirms it.
     * 409 MFA_ALREADY_ENABLED when two-factor is on.
     */
    async beginEnrolment(user: { id: number; uid: string }): Promise<{ otpauthUri: string; secret: string; qr: string }> {
      const s = requireSealer();
      const secret = crypto.randomBytes(SECRET_BYTES);
      const recoveryKey = crypto.randomBytes(RECOVERY_KEY_BYTES);
      const sealed = { secretSealed: s.seal(secret, aad.secret(user.id)), recoveryKeySealed: s.seal(recoveryKey, aad.recoveryKey(user.id)) };
      await serializable(db, async (tx) => {
        const existing = await tx.totpFactor.findUnique({ where: { userId: user.id }, select: { confirmedAt: true } });
        if (existing?.confirmedAt) throw new AppError("MFA_ALREADY_ENABLED");
        await tx.totpFactor.upsert({
          where: { userId: user.id },
          create: { userId: user.id, ...sealed },
          update: { ...sealed, lastUsedStep: null, createdAt: new Date(now()) },
        });
      });
      const totp = totpOf(secret, user.uid);
      const otpauthUri = totp.toString();
      return { otpauthUri, secret: totp.secret.base32, qr: await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: "M", margin: 2, width: 240 }) };
    },

    /**
     * Confirms the pending secret with a first code: two-factor is on from here, the code's step is claimed, and
     * ten recovery codes replace any old ones — all in one transaction. Null when the code is wrong; 409 when it
     * was already on; MFA_CODE_INVALID (400) when no enrolment waits.
     */
    async confirmEnrolment(userId: number, code: string): Promise<string[] | null> {
      requireSealer();
      const factor = await prisma.totpFactor.findUnique({ where: { userId } });
      if (factor?.confirmedAt) throw new AppError("MFA_ALREADY_ENABLED");
      if (!factor) throw mfaCodeRefused("There is no two-factor setup waiting for a code: start the setup again");
      const { secret, recoveryKey } = await openFactor(factor);
      const typed = code.replace(/\s+/g, "");
      const step = /^\d{6}$/.test(typed) ? stepOf(secret, typed) : null;
      if (step === null) return null;
      const { codes, rows } = newRecoveryCodes(userId, recoveryKey);
      const confirmed = await serializable(db, async (tx) => {
        // Only the secret this code was checked against, and only once: a restarted setup or a parallel confirm loses.
        const claimed = await tx.totpFactor.updateMany({
          where: { userId, confirmedAt: null, secretSealed: factor.secretSealed, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] },
          data: { confirmedAt: new Date(now()), lastUsedStep: step },
        });
        if (claimed.count !== 1) return false;
        await tx.recoveryCode.deleteMany({ where: { userId } });
        await tx.recoveryCode.createMany({ data: rows });
        return true;
      });
      if (!confirmed) {
        if ((await prisma.totpFactor.count({ where: { userId, confirmedAt: { not: null } } })) > 0) throw new AppError("MFA_ALREADY_ENABLED");
        throw mfaCodeRefused("This setup was replaced or already confirmed: start the setup again");
      }
      return codes;
    },

    /** A new set of ten recovery codes; the old set stops working in the same transaction. */
    async regenerateRecoveryCodes(userId: number): Promise<string[]> {
      const factor = await confirmedFactor(userId);
      if (!factor) throw mfaCodeRefused("Two-factor authentication is off, so there are no recovery codes to replace");
      const { recoveryKey } = await openFactor(factor);
      const { codes, rows } = newRecoveryCodes(userId, recoveryKey);
      await prisma.$transaction([prisma.recoveryCode.deleteMany({ where: { userId } }), prisma.recoveryCode.createMany({ data: rows })]);
      return codes;
    },

    /** Turns two-factor off for `userId` (also a pending setup); true when it was on. */
    removeFactor,

    /**
     * An admin's reset (API or CLI, `by` names who): removes the factor and codes of `uid` and ends every session
     * of theirs. 404 for an unknown uid. `wasEnabled`: two-factor was on.
     */
    async resetByUid(uid: string, { by, log = logger }: { by: string; log?: Logger }): Promise<{ user: PublicUser; wasEnabled: boolean }> {
      const found = await prisma.user.findUnique({ where: { uidKey: uidKeyOf(uid) }, select: { id: true, uid: true } });
      if (!found) throw new AppError("USER_NOT_FOUND", `User '${uid}' not found`);
      const wasEnabled = await removeFactor(found.id);
      const tokenVersion = await users.revokeAllSessions(found.id);
      log.info({ event: "mfa_disabled", by, uid: found.uid, wasEnabled, tokenVersion }, "two-factor authentication reset by an admin; sessions revoked");
      const user = await userForLogin(found.id);
      if (!user) throw new AppError("USER_NOT_FOUND", `User '${uid}' not found`);
      const { tokenVersion: _v, ...publicUser } = user;
      return { user: publicUser, wasEnabled };
    },

    /**
     * The live challenge this request's cookie names, with the user it signs in (as stored now), or 401
     * MFA_CHALLENGE_INVALID (and the cookie cleared). A password or role change since the first step ends it.
     */
    async openChallenge(ctx: ParameterizedContext<AppState>) {
      const token = challengeCookie.read(ctx);
      const row = token ? await oneTimeTokens.peek<ChallengeData>(token, "mfa_challenge") : null;
      const user = row?.userId != null ? await userForLogin(row.userId) : null;
      if (!token || !row || !user || (row.data?.ver != null && row.data.ver !== user.tokenVersion)) {
        challengeCookie.clear(ctx);
        throw new AppError("MFA_CHALLENGE_INVALID");
      }
      return { token, user, attempts: row.attempts, via: row.data?.via ?? "password" };
    },

    /** Whether the challenge is still there to be spent. */
    async challengeIsLive(token: string): Promise<boolean> {
      return (await oneTimeTokens.peek(token, "mfa_challenge")) !== null;
    },

    /** Spends the challenge after a right code; false when a parallel request spent it first. */
    async spendChallenge(token: string): Promise<boolean> {
      return (await oneTimeTokens.consume(token, "mfa_challenge")) !== null;
    },

    /** Counts a wrong code against the challenge: "exhausted" at the fifth (the row is gone). */
    countWrongCode(token: string): Promise<"counted" | "exhausted"> {
      return oneTimeTokens.countFailure(token, "mfa_challenge", CHALLENGE_MAX_ATTEMPTS);
    },
  };
}

/**
 * MFA_CODE_INVALID as 400: on the signed-in routes (setup, confirm, recovery codes, disable) a wrong code is a
 * bad request, not a lost session (a 401 there would read to pages as "log in again"). The login step keeps 401.
 */
export function mfaCodeRefused(message?: string, data: unknown = null): AppError {
  const error = new AppError("MFA_CODE_INVALID", message, data);
  Object.defineProperty(error, "status", { value: 400 });
  return error;
}

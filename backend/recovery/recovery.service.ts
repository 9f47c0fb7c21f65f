// Account recovery and e-mail verification (docs/recovery.md): who a reset request reaches, the per-account mail
// limits, the one-time links (services.oneTimeTokens: hashed, single use) and the mails that carry them, and
// the background work that keeps `forgot` from revealing, by its answer or its timing, whether an account exists.
import type { Logger } from "pino";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Config } from "../config";
import type { Db } from "../db";
import type { RedisClient } from "../db/redis";
import { AppError } from "../errors";
import { createIpLimiter } from "../auth/limits";
import type { OneTimeTokens } from "../auth/one-time-tokens";
import { publicFields, toPublic } from "../users/users.service";
import { uidKeyOf, type PublicUser } from "../users/user.model";
import { createMailer, type Mailer } from "./mail";
import { resetMail, verifyMail } from "./mail-texts";

/** What a reset or verification link carries besides its owner: the address it was sent to. */
export interface SentTo {
  email: string;
}

/** An account as a mail needs it. */
export interface MailAccount {
  id: number;
  uid: string;
  name: string;
  email: string | null;
}

/** `forgot` by address reaches at most this many accounts (several may share one address). */
export const MAX_ACCOUNTS_PER_ADDRESS = 5;
/** The per-account cooldown between two mails, whatever they are for. */
export const MAIL_GAP_SECONDS = 60;

const accountFields = { id: true, uid: true, name: true, email: true } as const;

export type Recovery = ReturnType<typeof createRecovery>;

export function createRecovery({
  config,
  db,
  redis,
  logger,
  now,
  oneTimeTokens,
  mailer = createMailer({ config, logger }),
}: {
  config: Config;
  db: Pick<Db, "prisma">;
  redis: RedisClient | null;
  logger: Logger;
  now: () => number;
  oneTimeTokens: OneTimeTokens;
  mailer?: Mailer;
}) {
  const { prisma } = db;
  const limiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract =>
    redis
      ? new RateLimiterRedis({ keyPrefix: `crossauth:${keyPrefix}`, points, duration, storeClient: redis, rejectIfRedisNotReady: true })
      : new RateLimiterMemory({ keyPrefix, points, duration });
  // Every mail to an account counts here, reset and verification alike; in Redis when configured, so the limit
  // holds across replicas (§14). Over either limit nothing is sent and nothing is said: the answer stays 202.
  const accountMailLimits = {
    hourly: limiter("mail", config.mail.perAccountPerHour, 3600),
    gap: limiter("mailgap", 1, MAIL_GAP_SECONDS),
  };

  /** Counts one mail to the account: false (send nothing) within the cooldown or over the hourly limit. */
  async function allowMail(userId: number): Promise<boolean> {
    for (const limit of [accountMailLimits.gap, accountMailLimits.hourly]) {
      try {
        await limit.consume(String(userId));
      } catch (res) {
        if (res instanceof RateLimiterRes) return false;
        throw new AppError("UNAVAILABLE", "The service cannot check its mail limits right now; please try again shortly", null, { "Retry-After": "5" });
      }
    }
    return true;
  }

  const link = (page: string, token: string) => `${config.frontendUrl}/${page}#token=${token}`;

  // Work that runs after the response (forgot, the mail after signup or an address change): started on the
  // next turn of the event loop, so none of it is part of the answer's timing; failures are logged, never thrown.
  const background = new Set<Promise<void>>();
  function later(log: Logger, what: string, work: () => Promise<unknown>): void {
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .then(
        () => undefined,
        (err) => log.error({ err: errorSummary(err), event: "mail_failed", what }, "background mail work failed"),
      );
    background.add(task);
    void task.finally(() => background.delete(task));
  }

  /**
   * Issues a reset link for the account's current address and hands its mail to the mailer, unless the
   * account's mail limits say no. `queued` tells which; `delivered` settles when the mailer is done.
   */
  async function mailReset(account: MailAccount, log: Logger, by?: string) {
    if (!account.email) throw new AppError("EMAIL_MISSING", "This account has no e-mail address to send a reset link to");
    if (!(await allowMail(account.id))) {
      log.info({ event: "password_reset_requested", uid: account.uid, outcome: "limited", by }, "password reset mail not sent: mail limit");
      return { queued: false, delivered: Promise.resolve(false) };
    }
    const ttl = config.mail.resetTtlSeconds;
    const token = await oneTimeTokens.issue("password_reset", { userId: account.id, data: { email: account.email } satisfies SentTo, ttlSeconds: ttl });
    const { subject, text } = resetMail(account, link("reset-password.html", token), ttl);
    log.info({ event: "password_reset_requested", uid: account.uid, outcome: "sent", by }, "password reset mail queued");
    return { queued: true, delivered: mailer.send({ to: account.email, subject, text, purpose: "password_reset", uid: account.uid }) };
  }

  /** Like mailReset, for a verification link to the account's current address. */
  async function mailVerification(account: MailAccount, log: Logger) {
    if (!account.email) throw new AppError("EMAIL_MISSING");
    if (!(await allowMail(account.id))) {
      log.info({ event: "verification_requested", uid: account.uid, outcome: "limited" }, "verification mail not sent: mail limit");
      return { queued: false, delivered: Promise.resolve(false) };
    }
    const ttl = config.mail.verifyTtlSeconds;
    const token = await oneTimeTokens.issue("email_verify", { userId: account.id, data: { email: account.email } satisfies SentTo, ttlSeconds: ttl });
    const { subject, text } = verifyMail(account, account.email, link("verify-email.html", token), ttl);
    log.info({ event: "verification_requested", uid: account.uid, outcome: "sent" }, "verification mail queued");
    return { queued: true, delivered: mailer.send({ to: account.email, subject, text, purpose: "email_verify", uid: account.uid }) };
  }

  /** The accounts a `forgot` request reaches: the uid's account, or up to 5 accounts with that address. */
  async function accountsFor(by: { email: string } | { uid: string }): Promise<MailAccount[]> {
    if ("uid" in by) {
      const account = await prisma.user.findUnique({ where: { uidKey: uidKeyOf(by.uid) }, select: accountFields });
      return account?.email ? [account] : [];
    }
    return prisma.user.findMany({ where: { emailKey: by.email.toLowerCase() }, select: accountFields, orderBy: { id: "asc" }, take: MAX_ACCOUNTS_PER_ADDRESS });
  }

  /**
   * Marks the address verified only if it is still the one the link went to: one guarded update, so an address
   * changed in between is never marked. Returns whether it was.
   */
  async function markVerified(userId: number, sentTo: string): Promise<boolean> {
    const { count } = await prisma.user.updateMany({ where: { id: userId, emailKey: sentTo.toLowerCase() }, data: { emailVerifiedAt: new Date(now()) } });
    return count === 1;
  }

  return {
    mailer,
    /** RATE_LIMIT_MAIL_PER_IP: `forgot` and `email/verification` (Redis down: 503, never unlimited). */
    mailIpLimit: createIpLimiter(config.mail.perIpPerMinute, "mail", redis),
    /** The per-account limiters (keys `mail:<userId>`, `mailgap:<userId>`); tests move past the cooldown with them. */
    accountMailLimits,

    /** 503 MAIL_UNAVAILABLE when this server sends no mail: the same answer for every account. */
    requireMail(): void {
      if (!mailer.available) throw new AppError("MAIL_UNAVAILABLE");
    },

    mailReset,
    mailVerification,

    /**
     * `forgot`: finds the accounts and mails each a reset link — all after the response, so neither the lookup
     * nor the sending shows in its timing, and the answer is the same whether or not anything matched.
     */
    requestResetLater(by: { email: string } | { uid: string }, log: Logger): void {
      later(log, "password_reset", async () => {
        const accounts = await accountsFor(by);
        if (accounts.length === 0) log.info({ event: "password_reset_requested", outcome: "no_account" }, "password reset asked for no known account");
        for (const account of accounts) await mailReset(account, log);
      });
    },

    /** After signup or an address change: a verification mail to the new address, when this server sends mail. */
    verifyLater(account: MailAccount, log: Logger): void {
      if (!mailer.available || !account.email) return;
      later(log, "email_verify", () => mailVerification(account, log));
    },

    /** The account a reset link belongs to, with what the reset needs to know; null when it is gone. */
    async accountForReset(userId: number) {
      const user = await prisma.user.findUnique({
        where: { id: userId },
        select: { ...accountFields, emailKey: true, totpFactor: { select: { confirmedAt: true } } },
      });
      return user ? { ...user, mfaEnabled: user.totpFactor?.confirmedAt != null } : null;
    },

    markVerified,

    /** Spends a verification link and marks its address verified: the user, or 400 VERIFY_TOKEN_INVALID. */
    async verifyEmail(token: unknown): Promise<PublicUser> {
      const row = await oneTimeTokens.consume<SentTo>(token, "email_verify");
      if (!row || row.userId === null || typeof row.data?.email !== "string") throw new AppError("VERIFY_TOKEN_INVALID");
      if (!(await markVerified(row.userId, row.data.email))) throw new AppError("VERIFY_TOKEN_INVALID");
      await oneTimeTokens.revokeFor(row.userId, ["email_verify"]);
      const user = await prisma.user.findUnique({ where: { id: row.userId }, select: publicFields });
      if (!user) throw new AppError("VERIFY_TOKEN_INVALID");
      return toPublic(user);
    },

    /** Resolves once the background work and the mails handed over so far are done (tests, shutdown). */
    async idle(): Promise<void> {
      while (background.size > 0) await Promise.all(background);
      await mailer.idle();
    },

    close(): void {
      mailer.close();
    },
  };
}

/** An error as the log may show it: its name and code, never a message that could quote a link. */
function errorSummary(err: unknown) {
  if (err instanceof AppError) return { type: "AppError", code: err.code };
  const e = (err ?? {}) as { name?: unknown; code?: unknown };
  return { type: typeof e.name === "string" ? e.name : "Error", code: typeof e.code === "string" ? e.code : undefined };
}

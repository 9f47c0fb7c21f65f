// createServices(deps): every service the routes draw from, built once from the process's dependencies.
// Route modules receive only the services they use (see app.ts) and import nothing from here but types.
import pino, { type Logger } from "pino";
import type { Config } from "./config";
import { announcingWrites, type Db } from "./db";
import type { RedisClient } from "./db/redis";
import type { Hasher } from "./auth/passwords";
import { createSessionCookie } from "./auth/cookies";
import { createTokens } from "./auth/tokens";
import { createAccountLock, createIpLimiter } from "./auth/limits";
import { SESSION_MODELS } from "./auth/session-store";
import { createSqliteSessionStore } from "./auth/session-store.sqlite";
import { createPostgresSessionStore } from "./auth/session-store.postgres";
import { createSessionVersion } from "./auth/session-version";
import { createUsersService } from "./users/users.service";
import { createOneTimeTokens } from "./auth/one-time-tokens";
import { createRecovery } from "./recovery/recovery.service";
import { createMfaService } from "./mfa/mfa.service";
import { createOAuthService } from "./oauth/oauth.service";
import { createPasskeysService } from "./passkeys/passkeys.service";
import { createTokenRequired } from "./middleware/token-required";

export interface AppDeps {
  config: Config;
  db: Db;
  hasher: Hasher;
  /** REDIS_URL's client (connected by the caller), or null: state stays in this process. */
  redis?: RedisClient | null;
  logger?: Logger;
  /** Milliseconds since the epoch; tests move time forward. */
  now?: () => number;
}

export function createServices({ config, db: database, hasher, redis = null, logger = pino({ level: config.logLevel }), now = Date.now }: AppDeps) {
  const tokens = createTokens(config.jwt, now);
  const cookie = createSessionCookie(config);
  // SQLite's cache is kept exact by the file itself (every commit moves its WAL header); PostgreSQL's by a version in Redis that
  // every write to what a session shows replaces. Without Redis, PostgreSQL reads each session's row.
  const sessionVersion = database.kind === "postgres" && redis ? createSessionVersion(redis, logger) : null;
  const db = sessionVersion ? announcingWrites(database, SESSION_MODELS, () => sessionVersion.bump()) : database;
  const sessionStore = db.kind === "sqlite" ? createSqliteSessionStore(db) : createPostgresSessionStore(db, sessionVersion);
  const users = createUsersService({ db, hasher, now });
  const oneTimeTokens = createOneTimeTokens({ db, now });
  const recovery = createRecovery({ config, db, redis, logger, now, oneTimeTokens });
  return {
    config,
    logger,
    now,
    hasher,
    db,
    redis,
    tokens,
    cookie,
    sessionStore,
    users,
    oneTimeTokens,
    recovery,
    mfa: createMfaService({ config, db, oneTimeTokens, users, logger, now }),
    oauth: createOAuthService({ config, db, oneTimeTokens, now }),
    passkeys: createPasskeysService({ config, db, oneTimeTokens, now }),
    tokenRequired: createTokenRequired({ tokens, cookie, sessionStore }),
    loginIpLimit: createIpLimiter(config.rateLimitLoginPerIp, "login", redis),
    signupIpLimit: createIpLimiter(config.rateLimitSignupPerIp, "signup", redis),
    accountLock: createAccountLock(config.loginMaxFailures, config.loginLockSeconds, redis),
  };
}

export type Services = ReturnType<typeof createServices>;

// createServices(deps): every service the routes draw from, built once from the process's dependencies.
// Route modules receive only the services they use (see app.ts) and import nothing from here but types.
import pino, { type Logger } from "pino";
import type { Config } from "./config";
import type { Db } from "./db";
import type { Hasher } from "./auth/passwords";
import { createSessionCookie } from "./auth/cookies";
import { createTokens } from "./auth/tokens";
import { createAccountLock, createIpLimiter } from "./auth/limits";
import { createSqliteSessionStore } from "./auth/session-store.sqlite";
import { createUsersService } from "./users/users.service";
import { createTokenRequired } from "./middleware/token-required";

export interface AppDeps {
  config: Config;
  db: Db;
  hasher: Hasher;
  logger?: Logger;
  /** Milliseconds since the epoch; tests move time forward. */
  now?: () => number;
}

export function createServices({ config, db, hasher, logger = pino({ level: config.logLevel }), now = Date.now }: AppDeps) {
  const tokens = createTokens(config.jwt, now);
  const cookie = createSessionCookie(config);
  const sessionStore = createSqliteSessionStore(db);
  const users = createUsersService({ db, hasher, now });
  return {
    config,
    logger,
    hasher,
    tokens,
    cookie,
    sessionStore,
    users,
    tokenRequired: createTokenRequired({ tokens, cookie, sessionStore }),
    loginIpLimit: createIpLimiter(config.rateLimitLoginPerIp, "login"),
    signupIpLimit: createIpLimiter(config.rateLimitSignupPerIp, "signup"),
    accountLock: createAccountLock(config.loginMaxFailures, config.loginLockSeconds),
  };
}

export type Services = ReturnType<typeof createServices>;

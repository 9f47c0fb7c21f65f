// Per-IP request limits and the per-account lock (docs/api.md › Abuse resistance), on rate-limiter-flexible.
// With one process they live in its memory; with REDIS_URL in Redis, shared by every replica. When Redis does
// not answer, the routes they guard answer 503 with Retry-After: they never run without their limits.
import crypto from "node:crypto";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { AppError } from "../errors";
import type { RedisClient } from "../db/redis";

const UNAVAILABLE_RETRY_SECONDS = 5;

function refusal(res: RateLimiterRes, message: (seconds: number) => string): AppError {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError("RATE_LIMITED", message(seconds), { retryAfterSeconds: seconds }, { "Retry-After": String(seconds) });
}

const limitsUnavailable = () =>
  new AppError("UNAVAILABLE", "The service cannot check its rate limits right now; please try again shortly", null, {
    "Retry-After": String(UNAVAILABLE_RETRY_SECONDS),
  });

/** A store error (Redis down or slow) becomes 503; a refusal stays the limiter's answer. */
async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof RateLimiterRes || err instanceof AppError) throw err;
    throw limitsUnavailable();
  }
}

function createLimiter(redis: RedisClient | null, options: { keyPrefix: string; points: number; duration: number }): RateLimiterAbstract {
  if (!redis) return new RateLimiterMemory(options);
  return new RateLimiterRedis({ ...options, keyPrefix: `crossauth:${options.keyPrefix}`, storeClient: redis, rejectIfRedisNotReady: true });
}

async function consumeOrThrow(limiter: RateLimiterAbstract, key: string, message: (seconds: number) => string) {
  try {
    await guarded(() => limiter.consume(key));
  } catch (res) {
    if (res instanceof RateLimiterRes) throw refusal(res, message);
    throw res;
  }
}

/** N requests per minute per client IP for one route family. */
export function createIpLimiter(perMinute: number, what: string, redis: RedisClient | null = null) {
  const limiter = createLimiter(redis, { keyPrefix: `ip:${what}`, points: perMinute, duration: 60 });
  return (ip: string) => consumeOrThrow(limiter, ip, (s) => `Too many ${what} attempts from your network. Try again in ${s} seconds.`);
}

/**
 * The key of an account's lock and failure count: its immutable id when it exists, so renaming the account
 * cannot reset them; otherwise the uid that was tried.
 */
export function accountKey(userId: number | null, triedUid: string): string {
  return userId !== null ? `user:${userId}` : `uid:${triedUid.toLowerCase()}`;
}

// The Redis mutex behind "one check at a time per account" across replicas: a key with an owner token and an
// expiry (a replica that dies mid-check frees it), released only by its owner.
const MUTEX_TTL_MS = 15_000;
const MUTEX_WAIT_MS = 10_000;
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

async function withRedisMutex<T>(redis: RedisClient, key: string, work: () => Promise<T>): Promise<T> {
  const name = `crossauth:check:${key}`;
  const owner = crypto.randomBytes(12).toString("base64url");
  const deadline = Date.now() + MUTEX_WAIT_MS;
  while ((await guarded(() => redis.set(name, owner, "PX", MUTEX_TTL_MS, "NX"))) !== "OK") {
    if (Date.now() > deadline) throw limitsUnavailable();
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
  }
  try {
    return await work();
  } finally {
    await redis.eval(RELEASE, 1, name, owner).catch(() => undefined); // else it expires by itself
  }
}

/**
 * Locks an account for `lockSeconds` after `maxFailures` failed password checks. Checks of one account run
 * one at a time (in this process by a queue; across replicas also by a Redis mutex): parallel guesses cannot
 * slip past the limit while bcrypt runs, and parallel *correct* logins (several tabs) all succeed instead of
 * being counted as failures. A success clears the count. Keys come from accountKey(): unknown uids are
 * locked exactly like real accounts, so the lock reveals nothing about which uids exist.
 */
export function createAccountLock(maxFailures: number, lockSeconds: number, redis: RedisClient | null = null) {
  const failures = createLimiter(redis, { keyPrefix: "account", points: maxFailures, duration: lockSeconds });
  const queues = new Map<string, Promise<unknown>>();
  const lockedMessage = (s: number) => `Too many failed attempts for this account. Try again in ${s} seconds.`;

  async function checkUnlessLocked<T>(key: string, verify: () => Promise<T | null>, clears: (verified: T) => boolean): Promise<T | null> {
    const state = await guarded(() => failures.get(key));
    if (state && state.consumedPoints >= maxFailures) throw refusal(state, lockedMessage);
    const verified = await verify();
    if (verified !== null) {
      if (clears(verified)) await guarded(() => failures.delete(key));
    } else {
      const after = await guarded(() => failures.penalty(key, 1));
      if (after.consumedPoints >= maxFailures) await guarded(() => failures.block(key, lockSeconds));
    }
    return verified;
  }

  const oneAtATime = <T>(key: string, verify: () => Promise<T | null>, clears: (verified: T) => boolean) =>
    redis ? withRedisMutex(redis, key, () => checkUnlessLocked(key, verify, clears)) : checkUnlessLocked(key, verify, clears);

  return {
    /**
     * Runs `verify` (a password or code check: null means wrong) unless the account is locked (429), counting
     * failures. A success clears the count unless `clears` says otherwise: with two-factor on, a right password
     * alone must not, or password + a few wrong codes, repeated, would guess forever.
     */
    check<T>(key: string, verify: () => Promise<T | null>, { clears = () => true }: { clears?: (verified: T) => boolean } = {}): Promise<T | null> {
      const result = (queues.get(key) ?? Promise.resolve()).then(() => oneAtATime(key, verify, clears));
      const tail = result.catch(() => undefined);
      queues.set(key, tail);
      void tail.then(() => {
        if (queues.get(key) === tail) queues.delete(key);
      });
      return result;
    },

    /** Forgets an account's failures (a completed password reset proves the owner). */
    async clear(key: string): Promise<void> {
      await guarded(() => failures.delete(key));
    },
  };
}

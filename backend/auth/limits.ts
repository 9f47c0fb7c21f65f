// Per-IP request limits and the per-account login lock (docs/api.md › Abuse resistance), on
// rate-limiter-flexible's in-memory store: limits are per process (run one API process per database).
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AppError } from "../errors";

function refusal(res: RateLimiterRes, message: (seconds: number) => string): AppError {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError("RATE_LIMITED", message(seconds), { retryAfterSeconds: seconds }, { "Retry-After": String(seconds) });
}

async function consumeOrThrow(limiter: RateLimiterMemory, key: string, message: (seconds: number) => string) {
  try {
    await limiter.consume(key);
  } catch (res) {
    if (res instanceof RateLimiterRes) throw refusal(res, message);
    throw res;
  }
}

/** N requests per minute per client IP for one route family. */
export function createIpLimiter(perMinute: number, what: string) {
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  return (ip: string) => consumeOrThrow(limiter, ip, (s) => `Too many ${what} attempts from your network. Try again in ${s} seconds.`);
}

/**
 * The key of an account's lock and failure count: its immutable id when it exists, so renaming the account
 * cannot reset them; otherwise the uid that was tried.
 */
export function accountKey(userId: number | null, triedUid: string): string {
  return userId !== null ? `user:${userId}` : `uid:${triedUid.toLowerCase()}`;
}

/**
 * Locks an account for `lockSeconds` after `maxFailures` failed password checks. Checks of one account run
 * one at a time: parallel guesses cannot slip past the limit while bcrypt runs, and parallel *correct*
 * logins (several tabs) all succeed instead of being counted as failures. A success clears the count.
 * Keys come from accountKey(): unknown uids are locked exactly like real accounts, so the lock reveals
 * nothing about which uids exist.
 */
export function createAccountLock(maxFailures: number, lockSeconds: number) {
  const failures = new RateLimiterMemory({ points: maxFailures, duration: lockSeconds });
  const queues = new Map<string, Promise<unknown>>();
  const lockedMessage = (s: number) => `Too many failed attempts for this account. Try again in ${s} seconds.`;

  async function checkUnlessLocked<T>(key: string, verify: () => Promise<T | null>): Promise<T | null> {
    const state = await failures.get(key);
    if (state && state.consumedPoints >= maxFailures) throw refusal(state, lockedMessage);
    const verified = await verify();
    if (verified !== null) {
      await failures.delete(key);
    } else {
      const after = await failures.penalty(key, 1);
      if (after.consumedPoints >= maxFailures) await failures.block(key, lockSeconds);
    }
    return verified;
  }

  return {
    /** Runs `verify` (a password check: null means wrong) unless the account is locked (429), counting failures. */
    check<T>(key: string, verify: () => Promise<T | null>): Promise<T | null> {
      const result = (queues.get(key) ?? Promise.resolve()).then(() => checkUnlessLocked(key, verify));
      const tail = result.catch(() => undefined);
      queues.set(key, tail);
      void tail.then(() => {
        if (queues.get(key) === tail) queues.delete(key);
      });
      return result;
    },
  };
}

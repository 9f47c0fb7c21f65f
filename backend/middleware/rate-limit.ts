// Per-IP request limits and the per-account login lock (SPEC §5.7), on rate-limiter-flexible's in-memory
// store: limits are per process (run one API process per database, or put a shared limiter in front).
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
 * Locks an account after `maxFailures` failed logins for `lockSeconds`. An attempt reserves a point
 * *before* the password is checked, so parallel guesses cannot slip past the limit while bcrypt runs;
 * a success clears the count. Keys are lower-cased uids whether or not the account exists, so the lock
 * reveals nothing about which uids are real.
 */
export function createAccountLock(maxFailures: number, lockSeconds: number) {
  const limiter = new RateLimiterMemory({ points: maxFailures, duration: lockSeconds, blockDuration: lockSeconds });
  return {
    reserveAttempt: (uid: string) =>
      consumeOrThrow(limiter, uid.toLowerCase(), (s) => `Too many failed attempts for this account. Try again in ${s} seconds.`),
    clear: (uid: string) => limiter.delete(uid.toLowerCase()),
  };
}

export type AccountLock = ReturnType<typeof createAccountLock>;
export type IpLimiter = ReturnType<typeof createIpLimiter>;

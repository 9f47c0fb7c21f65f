// The Redis connection (REDIS_URL): where several replicas keep the state that is not in the database (per-IP
// limits, account locks and failure counts, the session cache's shared version). Every command is bounded by
// DEPENDENCY_TIMEOUT_MS and fails at once while disconnected, so no request ever waits for Redis to come back;
// the client reconnects by itself.
import Redis from "ioredis";
import type { Logger } from "pino";

export type RedisClient = Redis;

export interface RedisOptions {
  url: string;
  timeoutMs: number;
  logger?: Logger;
}

/** Errors that mean "these credentials are wrong" rather than "Redis is not there right now". */
const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i;

export class RedisStartupError extends Error {}

/** A client, not yet connected (see connectRedis). */
export function createRedis({ url, timeoutMs, logger }: RedisOptions): RedisClient {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // Fail a command at once while disconnected instead of queueing it until Redis returns.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
  // One line per change of state, not one per reconnection attempt; never the URL (it may hold a password).
  let up = false;
  redis.on("ready", () => {
    if (!up) logger?.info({ event: "redis", state: "ready" }, "Redis connected");
    up = true;
  });
  redis.on("error", (err: Error & { code?: string }) => {
    if (up) logger?.warn({ event: "redis", state: "down", err: { message: err.message, code: err.code } }, "Redis connection lost; reconnecting");
    up = false;
  });
  redis.on("end", () => (up = false));
  return redis;
}

/**
 * Connects before the API listens, and stops the start with a plain message when Redis cannot be used: wrong
 * credentials, or no answer. (Once running, the API outlives Redis outages: logins answer 503 meanwhile.)
 */
export async function connectRedis(redis: RedisClient): Promise<void> {
  // ioredis reports a refused AUTH as an "error" event and then only rejects with "Connection is closed".
  const seen: string[] = [];
  const remember = (err: Error) => seen.push(err.message);
  redis.on("error", remember);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const messages = [...seen, err instanceof Error ? err.message : String(err)];
    const auth = messages.find((m) => AUTH_FAILURE.test(m));
    if (auth) throw new RedisStartupError(`Redis refused the credentials in REDIS_URL (${auth.replace(/\s+/g, " ").slice(0, 120)})`);
    throw new RedisStartupError(`Redis did not answer at REDIS_URL (${messages[0].replace(/\s+/g, " ").slice(0, 120)}); start it, or check the host and port`);
  } finally {
    redis.off("error", remember);
  }
}

export const isRedisReady = (redis: RedisClient) => redis.status === "ready";

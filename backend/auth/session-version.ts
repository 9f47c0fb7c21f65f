// The shared version that keeps every replica's session cache exact (README › Several replicas). Each replica
// tags its cached sessions with the version it read from Redis, and reads it again on every request (one GET):
// a cache is used only while the version is unchanged. Every write that a session can observe replaces the
// version — before the write and again once it is committed — and the write's response waits for that, so a
// request that starts after the response, on any replica, finds a new version and reads the database. (A
// pub/sub message could arrive after that next request; a read per request cannot.)
import crypto from "node:crypto";
import type { Logger } from "pino";
import { AppError } from "../errors";
import { isRedisReady, type RedisClient } from "../db/redis";

const KEY = "crossauth:sessions:version";
const RETRY_MS = 500;

export interface SessionVersion {
  /** The version to tag cached sessions with, or null: do not use or fill the cache now. */
  read(): Promise<string | null>;
  /** Makes every replica's cached sessions stale; throws 503 when Redis cannot be told (the write is then retried). */
  bump(): Promise<void>;
}

export function createSessionVersion(redis: RedisClient, logger?: Logger): SessionVersion {
  let epoch = 0;
  // A replica that lost Redis may have missed versions: its tags from before never match again.
  redis.on("ready", () => epoch++);
  redis.on("error", () => epoch++);

  let retrying: NodeJS.Timeout | null = null;
  // A version is random, never a counter: after a Redis restart an old value cannot come back and revive a
  // stale cache.
  const replace = () => redis.set(KEY, crypto.randomBytes(12).toString("base64url"));

  return {
    async read() {
      if (!isRedisReady(redis)) return null;
      try {
        const seenEpoch = epoch;
        const value = await redis.get(KEY);
        if (value === null) {
          await redis.set(KEY, crypto.randomBytes(12).toString("base64url"), "NX");
          return null;
        }
        return seenEpoch === epoch ? `${epoch}:${value}` : null;
      } catch {
        return null; // the database answers instead; a cache is never trusted without a fresh version
      }
    },

    async bump() {
      try {
        await replace();
      } catch (err) {
        // The change may be committed already: keep telling Redis until it hears, and say 503 meanwhile.
        retrying ??= setInterval(() => {
          replace().then(
            () => {
              if (retrying) clearInterval(retrying);
              retrying = null;
            },
            () => undefined,
          );
        }, RETRY_MS);
        retrying.unref();
        logger?.warn({ event: "redis", err: { message: (err as Error).message } }, "could not publish a session change to Redis; retrying");
        throw new AppError("UNAVAILABLE", "The change could not be shared with the other servers; please try again", null, { "Retry-After": "1" });
      }
    },
  };
}

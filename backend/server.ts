// The process entry point: reads the environment, applies migrations, seeds, listens, and drains on SIGTERM.
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import { ConfigError, loadConfig, readEnvironment, type Config } from "./config";
import { createDb } from "./db";
import { connectRedis, createRedis, RedisStartupError } from "./db/redis";
import { createHasher } from "./auth/passwords";
import { createApp } from "./app";
import { applyMigrations } from "./db/migrate";
import { seedUsers } from "./seed";
import { refuseUnreadableFactors } from "./mfa/mfa.startup";
import { answerClientError } from "./http/client-error";

const HOUSEKEEPING_INTERVAL_MS = 5 * 60_000;
/** After the drain, how long closing the worker pool and the database may take before the process exits anyway. */
const CLOSE_GRACE_MS = 3_000;

/** `closing`, or a warning and on after `CLOSE_GRACE_MS`: a stuck pool must not keep a stopping replica alive. */
async function closeWithin(logger: Logger, what: string, closing: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS, "late")));
  const outcome = await Promise.race([closing.then(() => "closed" as const, () => "failed" as const), late]);
  clearTimeout(timer);
  if (outcome !== "closed") logger.warn({ what, outcome }, `shutdown: ${what} did not close cleanly; exiting anyway`);
}

export interface RunningApi {
  url: string;
  server: http.Server;
  /** Stops accepting, lets in-flight requests finish (bounded), then closes the pool and the database. */
  shutdown(): Promise<void>;
}

export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  for (const warning of config.warnings) logger.warn(warning);
  for (const warning of config.loudWarnings) logger.error(`DANGER: ${warning}`);
  await applyMigrations(config.database);
  const db = createDb(config.database, { timeoutMs: config.dependencyTimeoutMs, logger });
  await refuseUnreadableFactors(config, db); // two-factor secrets it could not open: refuse, naming the key (docs/two-factor.md)
  const redis = config.redisUrl ? createRedis({ url: config.redisUrl, timeoutMs: config.dependencyTimeoutMs, logger }) : null;
  if (redis) await connectRedis(redis);
  const hasher = createHasher({ rounds: config.bcryptRounds });
  const app = createApp({ config, db, hasher, redis, logger });
  await seedUsers(config, app.services.users, logger);

  // Handlers still running: a client that disconnects mid-login closes its socket before the handler's
  // bcrypt comparison returns, so shutdown waits for handlers, not only connections, before closing the pool.
  const handle = app.callback();
  let running = 0;
  let allDone: (() => void) | null = null;
  const handled = () => {
    if (--running === 0) allDone?.();
  };
  // While draining, every response says `Connection: close` (also those already in flight at SIGTERM): a
  // keep-alive client would otherwise reuse a socket the idle sweep is closing and get a reset, not a refusal.
  let draining = false;
  const unsent = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    if (draining) res.setHeader("Connection", "close");
    unsent.add(res);
    res.once("close", () => unsent.delete(res));
    running++;
    handle(req, res).then(handled, handled);
  });
  server.keepAliveTimeout = 5_000;
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  // Expired one-time tokens are useless: swept every few minutes (replicas sweeping at once is harmless).
  const housekeeping = setInterval(() => {
    app.services.oneTimeTokens.purgeExpired().catch((err) => logger.warn({ err }, "could not purge expired one-time tokens"));
  }, HOUSEKEEPING_INTERVAL_MS);
  housekeeping.unref();
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;

  let stopping: Promise<void> | null = null;
  const shutdown = () =>
    (stopping ??= (async () => {
      const started = Date.now();
      draining = true;
      for (const res of unsent) if (!res.headersSent) res.setHeader("Connection", "close");
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections between requests are closed at once; busy ones once their response is sent.
      const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
      let timedOut = () => {};
      const deadlinePassed = new Promise<void>((resolve) => (timedOut = resolve));
      const deadline = setTimeout(() => {
        logger.warn("shutdown timeout reached: closing remaining connections");
        server.closeAllConnections();
        timedOut();
      }, config.shutdownTimeoutSeconds * 1000);
      await closed;
      if (running > 0) await Promise.race([new Promise<void>((resolve) => (allDone = resolve)), deadlinePassed]);
      // Mail still being handed to the transport is sent (bounded by the same deadline), then the transport closes.
      await Promise.race([app.services.recovery.idle(), deadlinePassed]);
      app.services.recovery.close();
      clearInterval(idleSweep);
      clearInterval(housekeeping);
      clearTimeout(deadline);
      await closeWithin(logger, "the password worker pool", hasher.destroy());
      await closeWithin(logger, "the database connections", db.close());
      redis?.disconnect();
      logger.info({ drainMs: Date.now() - started }, "shut down cleanly");
    })());

  return { url, server, shutdown };
}

/** Startup failed: a configuration refusal (naming the variable and the fix) or another error; exit 1. */
export function exitOnStartupFailure(err: unknown): never {
  if (err instanceof ConfigError) console.error(`crossauth: refusing to start.\n${err.message}`);
  else if (err instanceof RedisStartupError) console.error(`crossauth: failed to start: ${err.message}`);
  else console.error("crossauth: failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
}

async function main() {
  const config = loadConfig(readEnvironment());
  const logger = pino({ level: config.logLevel });
  const api = await startApi(config, logger);
  logger.info({ url: api.url, env: config.env, allowedOrigins: config.allowedOrigins }, `crossauth API listening on ${api.url}`);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, "shutting down");
      api.shutdown().then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
    });
  }
}

if (require.main === module) {
  main().catch(exitOnStartupFailure);
}

// Test helpers: a fresh app on a fresh database — a SQLite file, or with CROSSAUTH_TEST_DATABASE=postgres a
// PostgreSQL database cloned from a migrated template plus Redis (global-setup.ts starts both) — logins, SQL
// that reads the same on both databases, and token forging for the security tests.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import pino from "pino";
import { Writable } from "node:stream";
import request from "supertest";
import { createApp, type App } from "../../backend/app";
import { loadConfig, type Config } from "../../backend/config";
import { createDb, type Db } from "../../backend/db";
import { connectRedis, createRedis, type RedisClient } from "../../backend/db/redis";
import { createHasher, type Hasher } from "../../backend/auth/passwords";
import { seedUsers } from "../../backend/seed";

/** Which database this run tests: every test file runs on both in CI (test/run.mjs). */
export const dialect: "sqlite" | "postgres" = process.env.CROSSAUTH_TEST_DATABASE === "postgres" ? "postgres" : "sqlite";

export const TEST_SECRET = "test-secret-that-is-long-enough-0123456789";
/** A fixed DATA_ENCRYPTION_KEY, so no test generates one into a data directory. */
export const TEST_DATA_KEY = Buffer.alloc(32, 7).toString("base64");
export const ALLOWED_ORIGIN = "http://localhost:4100";

export interface TestApp {
  app: App;
  config: Config;
  db: Db;
  hasher: Hasher;
  redis: RedisClient | null;
  databaseUrl: string;
  /** The SQLite file (SQLite runs only). */
  databaseFile: string;
  http: () => ReturnType<typeof request>;
  /** Rows of a query on this app's database. Write it once for both: "Quoted" identifiers, ? placeholders. */
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  /** Runs statements on a connection of its own, as another process (an operator's shell) would. */
  sqlElsewhere(statements: string): Promise<void>;
  /** Moves the app's clock forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}, databaseUrl = `file:${freshDatabaseFile()}`): Config {
  return loadConfig({
    NODE_ENV: "test",
    JWT_SECRET: TEST_SECRET,
    DATA_ENCRYPTION_KEY: TEST_DATA_KEY,
    MAIL_TRANSPORT: "off",
    DATABASE_URL: databaseUrl,
    ...(dialect === "postgres" ? { REDIS_URL: testRedisUrl() } : {}),
    BCRYPT_ROUNDS: "4",
    LOG_LEVEL: "silent",
    RATE_LIMIT_LOGIN_PER_IP: "10000",
    RATE_LIMIT_SIGNUP_PER_IP: "10000",
    LOGIN_MAX_FAILURES: "1000",
    ALLOWED_ORIGINS: `${ALLOWED_ORIGIN},http://127.0.0.1:4100`,
    ...env,
  });
}

const tempDirs: string[] = [];

/** A temporary directory removed after this test file (setup.ts), pass or fail. */
export function tempDir(prefix = "test"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `crossauth-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function freshDatabaseFile(): string {
  const template = process.env.CROSSAUTH_TEST_TEMPLATE_DB;
  if (!template) throw new Error("CROSSAUTH_TEST_TEMPLATE_DB is not set: run through jest (global-setup.ts)");
  const file = path.join(tempDir(), "test.db");
  fs.copyFileSync(template, file);
  return file;
}

const createdDatabases: string[] = [];

/** This worker's Redis database (jest runs test files one at a time per worker): tests share no keys. */
export function testRedisUrl(): string {
  const base = process.env.CROSSAUTH_TEST_REDIS_URL;
  if (!base) throw new Error("CROSSAUTH_TEST_REDIS_URL is not set: run through jest (global-setup.ts)");
  return `${base}/${Number(process.env.JEST_WORKER_ID ?? 1) % 16}`;
}

/** A PostgreSQL superuser URL for `database` on the test server. */
export function postgresUrl(database: string): string {
  const base = process.env.CROSSAUTH_TEST_POSTGRES_URL;
  if (!base) throw new Error("CROSSAUTH_TEST_POSTGRES_URL is not set: run through jest (global-setup.ts)");
  return base.replace(/\/[^/]*$/, `/${database}`);
}

async function onPostgres<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl("postgres") });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Databases made here and not yet opened by makeTestApp: the first app on each starts with fresh limits. */
const unopened = new Set<string>();

/** A DATABASE_URL for an empty, migrated database of this run's kind, dropped after the test file. */
export async function freshDatabaseUrl(): Promise<string> {
  if (dialect === "sqlite") return `file:${freshDatabaseFile()}`;
  const name = `test_${crypto.randomBytes(6).toString("hex")}`;
  await onPostgres((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE crossauth_template`));
  createdDatabases.push(name);
  const url = postgresUrl(name);
  unopened.add(url);
  return url;
}

export async function dropDatabases(): Promise<void> {
  const names = createdDatabases.splice(0);
  if (names.length > 0) await onPostgres(async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

export async function makeTestApp(
  env: Record<string, string> = {},
  options: { databaseUrl?: string; logger?: pino.Logger } = {},
): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (await freshDatabaseUrl());
  // Limits in Redis are keyed by user id: a new database must not inherit an earlier test file's (this worker's
  // Redis database outlives them); an app reopening a database (a restart) keeps them.
  const fresh = unopened.delete(databaseUrl);
  const config = testConfig(env, databaseUrl);
  const db = createDb(config.database, { timeoutMs: config.dependencyTimeoutMs });
  const redis = config.redisUrl ? createRedis({ url: config.redisUrl, timeoutMs: config.dependencyTimeoutMs }) : null;
  if (redis) {
    await connectRedis(redis);
    if (fresh) await redis.flushdb();
  }
  const hasher = createHasher({ rounds: config.bcryptRounds, threads: 1 });
  let offset = 0;
  const logger = options.logger ?? pino({ level: "silent" });
  const app = createApp({ config, db, hasher, redis, logger, now: () => Date.now() + offset });
  await seedUsers(config, app.services.users, logger);
  const server = app.callback();
  const databaseFile = config.database.kind === "sqlite" ? config.database.file : "";
  return {
    app,
    config,
    db,
    hasher,
    redis,
    databaseUrl,
    databaseFile,
    http: () => request(server),
    async sql<T>(query: string, params: unknown[] = []) {
      if (db.kind === "sqlite") return db.raw.prepare(query).all(...params) as T[];
      let n = 0;
      return (await db.pool.query(query.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
    },
    async sqlElsewhere(statements) {
      if (db.kind === "sqlite") {
        const other = new Database(databaseFile);
        try {
          other.exec(statements);
        } finally {
          other.close();
        }
        return;
      }
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(statements);
      } finally {
        await client.end();
      }
    },
    advance(ms) {
      offset += ms;
    },
    async close() {
      await hasher.destroy();
      await db.close();
      redis?.disconnect();
    },
  };
}

/** Logs in and returns the `name=value` cookie pair to send back. */
export async function loginAs(t: TestApp, uid: string, password = "password"): Promise<string> {
  const res = await t.http().post("/api/authenticate").send({ uid, password });
  if (res.status !== 200) throw new Error(`login as ${uid} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return sessionCookieOf(res, t.config.jwt.cookieName);
}

export function sessionCookieOf(res: { headers: Record<string, unknown> }, name = "__Host-jwt_token"): string {
  const cookies = (res.headers["set-cookie"] as string[] | undefined) ?? [];
  const cookie = cookies.find((c) => c.startsWith(`${name}=`));
  if (!cookie) throw new Error(`no ${name} cookie in response`);
  return cookie.split(";")[0];
}

export function tokenOf(cookie: string): string {
  return cookie.slice(cookie.indexOf("=") + 1);
}

export async function signup(t: TestApp, uid: string, password = "orbit-lantern-42", name = "Test User") {
  const res = await t.http().post("/api/user").send({ uid, name, password });
  if (res.status !== 201) throw new Error(`signup ${uid} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: number; uid: string };
}

export async function userCount(t: TestApp, where = "1 = 1", params: unknown[] = []): Promise<number> {
  const [row] = await t.sql<{ n: number }>(`SELECT CAST(count(*) AS INTEGER) AS n FROM "User" WHERE ${where}`, params);
  return row.n;
}

export function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(Object.keys(res.body).sort()).toEqual(["code", "data", "error", "message"]);
  expect(typeof res.body.message).toBe("string");
}

/** A logger whose JSON lines the test can read: `lines()` as text, `events()` parsed. */
export function captureLogs() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return {
    logger: pino({ level: "info" }, sink),
    lines: () => lines.join("\n"),
    events: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

// Test helpers: a fresh app on a fresh SQLite file, logins, and token forging for the security tests.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { Writable } from "node:stream";
import request from "supertest";
import { createApp, type App } from "../../backend/app";
import { loadConfig, type Config } from "../../backend/config";
import { createDb, type Db } from "../../backend/db";
import { createHasher, type Hasher } from "../../backend/auth/passwords";
import { seedUsers } from "../../backend/seed";

export const TEST_SECRET = "test-secret-that-is-long-enough-0123456789";
export const ALLOWED_ORIGIN = "http://localhost:4100";

export interface TestApp {
  app: App;
  config: Config;
  db: Db;
  hasher: Hasher;
  databaseFile: string;
  http: () => ReturnType<typeof request>;
  /** Moves the app's clock forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}, databaseFile = freshDatabaseFile()): Config {
  return loadConfig({
    NODE_ENV: "test",
    JWT_SECRET: TEST_SECRET,
    DATABASE_URL: `file:${databaseFile}`,
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

export async function makeTestApp(
  env: Record<string, string> = {},
  options: { databaseFile?: string; logger?: pino.Logger } = {},
): Promise<TestApp> {
  const databaseFile = options.databaseFile ?? freshDatabaseFile();
  const config = testConfig(env, databaseFile);
  const db = createDb(databaseFile);
  const hasher = createHasher({ rounds: config.bcryptRounds, threads: 1 });
  let offset = 0;
  const logger = options.logger ?? pino({ level: "silent" });
  const app = createApp({ config, db, hasher, logger, now: () => Date.now() + offset });
  await seedUsers(config, app.services.users, logger);
  const server = app.callback();
  return {
    app,
    config,
    db,
    hasher,
    databaseFile,
    http: () => request(server),
    advance(ms) {
      offset += ms;
    },
    async close() {
      await hasher.destroy();
      await db.close();
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

export function userCount(t: TestApp): number {
  return (t.db.raw.prepare("SELECT count(*) AS n FROM User").get() as { n: number }).n;
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

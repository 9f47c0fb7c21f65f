// Starting on PostgreSQL + Redis: what production refuses and why, and how a bad DATABASE_URL or REDIS_URL, a
// wrong password in either, or a Redis that is not there stop the start — one plain line naming the variable,
// no stack trace, and never the password.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { createRequire } from "node:module";
import { before, describe, test } from "node:test";
import { apiEnv, freePort, spawnApi, stopApi, waitForHealth } from "../lib/api-process.mjs";
import { blockOwner, own, suiteTimeLeft } from "../lib/suite.mjs";

const { startPostgres, startRedis } = createRequire(import.meta.url)("../lib/throwaway.cjs");

const PG_PASSWORD = `pg-${crypto.randomBytes(8).toString("hex")}`;
const REDIS_PASSWORD = `redis-${crypto.randomBytes(8).toString("hex")}`;
const production = {
  NODE_ENV: "production",
  HOST: "127.0.0.1",
  JWT_SECRET: crypto.randomBytes(48).toString("base64url"),
  ALLOWED_ORIGINS: "https://you.github.io",
  LOG_LEVEL: "info",
};

describe("several replicas: starting up", { timeout: suiteTimeLeft() }, () => {
  const group = blockOwner();
  let pg;
  let redis;
  before(async () => {
    pg = await startPostgres({ password: PG_PASSWORD });
    own(group, () => pg.destroy());
    redis = await startRedis({ password: REDIS_PASSWORD });
    own(group, () => redis.destroy());
  }, { timeout: 60_000 });

  /** Starts the API with `env`; resolves { code, output } once it exits, or kills it after `ms`. */
  async function startAndExit(t, env, ms = 20_000) {
    const api = spawnApi(apiEnv({ PORT: String(await freePort()), ...env }));
    own(t, () => stopApi(api, 0));
    const exited = await Promise.race([api.exited, new Promise((resolve) => setTimeout(resolve, ms, null))]);
    return { code: exited?.code ?? null, output: api.output() };
  }

  function assertPlainRefusal(result, pattern, secrets) {
    assert.equal(result.code, 1, `expected the start to fail, got ${JSON.stringify(result)}`);
    assert.match(result.output, pattern);
    assert.doesNotMatch(result.output, /\n\s+at /, "a stack trace was printed");
    for (const secret of secrets) assert(!result.output.includes(secret), "a password reached the output");
  }

  test("production on PostgreSQL without REDIS_URL refuses to start, saying why; SINGLE_INSTANCE=true starts it", async (t) => {
    const refused = await startAndExit(t, { ...production, DATABASE_URL: pg.urlFor("postgres") });
    assertPlainRefusal(refused, /REDIS_URL: required in production with PostgreSQL: several API processes would each keep their own rate limits.*SINGLE_INSTANCE=true/s, [PG_PASSWORD]);

    const port = await freePort();
    const single = spawnApi(apiEnv({ ...production, PORT: String(port), DATABASE_URL: pg.urlFor("postgres"), SINGLE_INSTANCE: "true" }));
    own(t, () => stopApi(single, 10_000));
    await waitForHealth(`http://127.0.0.1:${port}`, single, { timeoutMs: 60_000 });
    const health = await (await fetch(`http://127.0.0.1:${port}/api/health`)).json();
    assert.deepEqual(health, { status: "ok", database: "ok", redis: "off" });
    assert(!single.output().includes(PG_PASSWORD), "the database password reached the log");
  });

  test("a malformed DATABASE_URL or REDIS_URL is refused at start, naming the variable but not the value", async (t) => {
    const secret = "hunter2-secret";
    const result = await startAndExit(t, { ...production, DATABASE_URL: `postgres://admin:${secret}@`, REDIS_URL: `http://:${secret}@cache` });
    assertPlainRefusal(result, /DATABASE_URL: not a valid PostgreSQL URL.*\n.*REDIS_URL: not a valid Redis URL/, [secret]);
  });

  test("a wrong PostgreSQL password stops the start with a plain message", async (t) => {
    const wrong = pg.urlFor("postgres").replace(PG_PASSWORD, "not-the-password-9");
    const result = await startAndExit(t, { ...production, DATABASE_URL: wrong, REDIS_URL: redis.url });
    assertPlainRefusal(result, /failed to start: Applying database migrations to the PostgreSQL database \(DATABASE_URL\) failed: password authentication failed/, ["not-the-password-9", PG_PASSWORD, REDIS_PASSWORD]);
  });

  test("a wrong Redis password, or no Redis at all, stops the start with a plain message", async (t) => {
    const wrong = redis.url.replace(REDIS_PASSWORD, "not-the-password-8");
    const refused = await startAndExit(t, { ...production, DATABASE_URL: pg.urlFor("postgres"), REDIS_URL: wrong });
    assertPlainRefusal(refused, /failed to start: Redis refused the credentials in REDIS_URL/, ["not-the-password-8", PG_PASSWORD]);
    const absent = await startAndExit(t, { ...production, DATABASE_URL: pg.urlFor("postgres"), REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${await freePort()}` });
    assertPlainRefusal(absent, /failed to start: Redis did not answer at REDIS_URL/, [REDIS_PASSWORD, PG_PASSWORD]);
  });
});

// Once per jest run: a migrated SQLite template that each test file copies; with CROSSAUTH_TEST_DATABASE=postgres
// also a throwaway PostgreSQL server (a migrated template database each test clones) and a Redis server.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { applyMigrations } from "../../backend/db/migrate";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startPostgres, startRedis } = require("../lib/throwaway.cjs");

export default async function globalSetup() {
  // Processes the tests start (the CLI) must not read a developer's .env in the checkout.
  process.env.CROSSAUTH_ENV_FILE = "off";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crossauth-jest-"));
  const template = path.join(dir, "template.db");
  await applyMigrations({ kind: "sqlite", file: template });
  process.env.CROSSAUTH_TEST_TEMPLATE_DB = template;

  if (process.env.CROSSAUTH_TEST_DATABASE === "postgres") {
    const postgres = await startPostgres();
    (globalThis as Record<string, unknown>).__crossauthServers = [postgres];
    const redis = await startRedis();
    (globalThis as Record<string, unknown>).__crossauthServers = [postgres, redis];
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query("CREATE DATABASE crossauth_template");
    await admin.end();
    await applyMigrations({ kind: "postgres", url: postgres.urlFor("crossauth_template"), schema: undefined, poolSize: 1 });
    process.env.CROSSAUTH_TEST_POSTGRES_URL = postgres.url;
    process.env.CROSSAUTH_TEST_REDIS_URL = redis.url;
  }
}

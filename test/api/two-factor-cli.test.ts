// Two-factor from the shell (docs/two-factor.md): `npm run user -- reset-2fa <uid>`, and the API process that
// refuses to start in production when accounts have two-factor on but DATA_ENCRYPTION_KEY is missing — both run
// as real processes against this run's database.
import { execFile, spawn } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../backend/config";
import { dialect, expectError, makeTestApp, TEST_DATA_KEY, TEST_SECRET, testRedisUrl, type TestApp } from "./helpers";
import { account, enrolled, PASSWORD } from "./support/two-factor";

const run = promisify(execFile);
const tsx = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const PROCESS_TIMEOUT_MS = 60_000;

let t: TestApp;
beforeEach(async () => {
  t = await makeTestApp();
});
afterEach(async () => {
  await t.close();
});

const baseEnv = () => ({
  ...process.env,
  CROSSAUTH_ENV_FILE: "off",
  DATABASE_URL: t.databaseUrl,
  LOG_LEVEL: "silent",
  ...(dialect === "postgres" ? { REDIS_URL: testRedisUrl() } : {}),
});

async function cli(args: string[]) {
  const env = { ...baseEnv(), JWT_SECRET: TEST_SECRET, DATA_ENCRYPTION_KEY: TEST_DATA_KEY, BCRYPT_ROUNDS: "4" };
  return run(process.execPath, [tsx, path.join(PROJECT_ROOT, "backend", "cli", "user.ts"), ...args], { cwd: PROJECT_ROOT, env, timeout: PROCESS_TIMEOUT_MS }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

it("reset-2fa turns a user's two-factor off and ends their sessions", async () => {
  const alice = await enrolled(t, "alice");
  const done = await cli(["reset-2fa", "alice"]);
  expect(done).toMatchObject({ code: 0 });
  expect(done.stdout).toMatch(/two-factor authentication of alice is off; their sessions were ended/);
  expectError(await t.http().get("/api/id").set("Cookie", alice.cookie), 401, "TOKEN_REVOKED");
  const login = await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD });
  expect(login.status).toBe(200);
  expect(login.body.user.mfaEnabled).toBe(false);
  expect(await t.sql('SELECT * FROM "RecoveryCode" WHERE "userId" = ?', [alice.id])).toEqual([]);

  expect((await cli(["reset-2fa", "alice"])).stdout).toMatch(/alice had no two-factor authentication/);
  const unknown = await cli(["reset-2fa", "nobody"]);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/USER_NOT_FOUND/);
  expect((await cli(["--help"])).stderr).toMatch(/reset-2fa <uid>/);
});

/** `node server.ts` in production without DATA_ENCRYPTION_KEY: its exit, or "listening" (then it is stopped). */
function startProductionApi(): Promise<{ code: number | null; stderr: string; listening: boolean }> {
  const env = { ...baseEnv(), NODE_ENV: "production", LOG_LEVEL: "info", HOST: "127.0.0.1", PORT: "0", JWT_SECRET: crypto.randomBytes(48).toString("base64url"), ALLOWED_ORIGINS: "http://localhost:4100", BCRYPT_ROUNDS: "10" };
  delete (env as Record<string, string | undefined>).DATA_ENCRYPTION_KEY;
  const child = spawn(process.execPath, [tsx, path.join(PROJECT_ROOT, "backend", "server.ts")], { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let listening = false;
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.stdout.on("data", (chunk) => {
    if (!listening && /API listening/.test(String(chunk))) {
      listening = true;
      child.kill("SIGTERM");
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), PROCESS_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, listening });
    });
  });
}

it("production without DATA_ENCRYPTION_KEY: starts while no account has two-factor on, refuses once one has, naming the variable", async () => {
  const { id } = await account(t, "bob");
  await t.app.services.mfa.beginEnrolment({ id, uid: "bob" }); // pending: does not count
  const starts = await startProductionApi();
  expect(starts).toMatchObject({ listening: true, code: 0 });

  await enrolled(t, "alice");
  const refused = await startProductionApi();
  expect(refused).toMatchObject({ listening: false, code: 1 });
  expect(refused.stderr).toMatch(/refusing to start/);
  expect(refused.stderr).toMatch(/DATA_ENCRYPTION_KEY: 1 account has two-factor authentication on/);
}, 3 * PROCESS_TIMEOUT_MS);

// The admin CLI's recovery commands (`npm run user -- verify-email|send-reset <uid>`), run as real processes
// against this run's database, with their mail caught by a real SMTP server.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../backend/config";
import { dialect, freshDatabaseUrl, loginAs, makeTestApp, TEST_DATA_KEY, TEST_SECRET, testRedisUrl, type TestApp } from "./helpers";
import { linkOf, startMailCatcher, type MailCatcher } from "./support/mail-catcher";
import { accountWithEmail, NEW_PASSWORD, PASSWORD, resetMailTo } from "./support/recovery";

const run = promisify(execFile);
const tsx = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const cliPath = path.join(PROJECT_ROOT, "backend", "cli", "user.ts");

async function cli(databaseUrl: string, args: string[], env: Record<string, string>) {
  // Fixed keys: the CLI generates no development key files.
  const childEnv = { ...process.env, DATABASE_URL: databaseUrl, JWT_SECRET: TEST_SECRET, DATA_ENCRYPTION_KEY: TEST_DATA_KEY, BCRYPT_ROUNDS: "4", ...(dialect === "postgres" ? { REDIS_URL: testRedisUrl() } : {}), ...env };
  return run(process.execPath, [tsx, cliPath, ...args], { cwd: PROJECT_ROOT, env: childEnv }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

let t: TestApp;
let mail: MailCatcher;
let databaseUrl: string;
beforeEach(async () => {
  databaseUrl = await freshDatabaseUrl();
  mail = await startMailCatcher();
  t = await makeTestApp({}, { databaseUrl });
});
afterEach(async () => {
  await t.close();
  await mail.close();
});

it("send-reset mails a working reset link; without an address or with mail off it says why and exits 1", async () => {
  await accountWithEmail(t, "alice", "alice@example.com");
  await accountWithEmail(t, "bob", null);
  const smtp = { MAIL_TRANSPORT: "smtp", SMTP_URL: mail.url };
  const sent = await cli(databaseUrl, ["send-reset", "alice"], smtp);
  expect(sent).toMatchObject({ code: 0, stdout: expect.stringMatching(/a password reset link was sent to the email address of alice/) });
  const { token } = linkOf(await mail.waitForMail(resetMailTo("alice@example.com"), "to alice"));
  expect((await t.http().post("/api/password/reset").send({ token, password: NEW_PASSWORD })).status).toBe(200);
  expect((await t.http().post("/api/authenticate").send({ uid: "alice", password: NEW_PASSWORD })).status).toBe(200);

  expect(await cli(databaseUrl, ["send-reset", "bob"], smtp)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^EMAIL_MISSING: /) });
  expect(await cli(databaseUrl, ["send-reset", "alice"], { MAIL_TRANSPORT: "off" })).toMatchObject({ code: 1, stderr: expect.stringMatching(/^MAIL_UNAVAILABLE: /) });
  expect(await cli(databaseUrl, ["send-reset", "ghost"], smtp)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^USER_NOT_FOUND: /) });
  expect(mail.inbox).toHaveLength(1);
}, 90_000);

it("verify-email marks the address verified, as the API then shows", async () => {
  await accountWithEmail(t, "alice", "alice@example.com");
  await accountWithEmail(t, "bob", null);
  const done = await cli(databaseUrl, ["verify-email", "ALICE"], { MAIL_TRANSPORT: "off" });
  expect(done).toMatchObject({ code: 0, stdout: expect.stringMatching(/alice@example\.com of alice is marked verified/) });
  expect((await t.http().get("/api/id").set("Cookie", await loginAs(t, "alice", PASSWORD))).body.emailVerified).toBe(true);
  expect(await cli(databaseUrl, ["verify-email", "bob"], { MAIL_TRANSPORT: "off" })).toMatchObject({ code: 1, stderr: expect.stringMatching(/^EMAIL_MISSING: /) });
}, 60_000);

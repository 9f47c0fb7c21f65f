// How recovery mail goes out (docs/recovery.md › Mail): the transports and their configuration, the limits per
// IP and per account (silent), MAIL_UNAVAILABLE when off, retries, and never a link in the log.
import net from "node:net";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { ConfigError, loadConfig } from "../../backend/config";
import { createMailer } from "../../backend/recovery/mail";
import { captureLogs, expectError, loginAs, makeTestApp, tempDir, TEST_DATA_KEY, TEST_SECRET, type TestApp } from "./helpers";
import { startMailCatcher } from "./support/mail-catcher";
import { accountWithEmail, makeMailApp, PASSWORD, pastMailCooldown, resetMailTo, settle, to, type MailApp } from "./support/recovery";

const FORGOT = { message: "If an account matches, we have sent it a reset link" };

describe("configuration", () => {
  const load = (env: Record<string, string>) =>
    loadConfig({ JWT_SECRET: TEST_SECRET, DATA_ENCRYPTION_KEY: TEST_DATA_KEY, ALLOWED_ORIGINS: "https://app.example.com", DATABASE_URL: `file:${path.join(tempDir("mailcfg"), "x.db")}`, ...env });
  const problemsOf = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it("refuses MAIL_TRANSPORT=console in production: it would print working reset links into the server's output", () => {
    expect(problemsOf({ NODE_ENV: "production", MAIL_TRANSPORT: "console" })).toEqual([expect.stringMatching(/^MAIL_TRANSPORT: console prints reset links/)]);
  });

  it("defaults to console in development, smtp with SMTP_URL, and off in production without it", () => {
    expect(load({ NODE_ENV: "development" }).mail.transport).toBe("console");
    expect(load({ NODE_ENV: "production" }).mail.transport).toBe("off");
    expect(load({ NODE_ENV: "production", SMTP_URL: "smtps://u:p@mail.example.com:465" }).mail).toMatchObject({ transport: "smtp", smtpUrl: "smtps://u:p@mail.example.com:465" });
    expect(problemsOf({ NODE_ENV: "production", MAIL_TRANSPORT: "smtp" })).toEqual([expect.stringMatching(/^SMTP_URL: required/)]);
    expect(load({ NODE_ENV: "production" }).frontendUrl).toBe("https://app.example.com");
  });
});

describe("with MAIL_TRANSPORT=off", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ MAIL_PER_ACCOUNT_PER_HOUR: "1000" });
  });
  afterEach(async () => {
    await settle(t);
    await t.close();
  });

  it("answers 503 MAIL_UNAVAILABLE on the mail routes, the same for every account", async () => {
    await accountWithEmail(t, "alice", "alice@example.com");
    const known = await t.http().post("/api/password/forgot").send({ email: "alice@example.com" });
    const unknown = await t.http().post("/api/password/forgot").send({ uid: "nobody" });
    expectError(known, 503, "MAIL_UNAVAILABLE");
    expect(unknown.body).toEqual(known.body);
    const alice = await loginAs(t, "alice", PASSWORD);
    expectError(await t.http().post("/api/email/verification").set("Cookie", alice), 503, "MAIL_UNAVAILABLE");
    const admin = await loginAs(t, "admin", "password");
    expectError(await t.http().post("/api/user/alice/password-reset").set("Cookie", admin), 503, "MAIL_UNAVAILABLE");
  });

  it("still signs up with an address and changes it (no mail, no error), and still honours links made before", async () => {
    const res = await t.http().post("/api/user").send({ uid: "bob", name: "Bob", password: PASSWORD, email: "bob@example.com" });
    expect(res.status).toBe(201);
    const bob = await loginAs(t, "bob", PASSWORD);
    expect((await t.http().put("/api/user").set("Cookie", bob).send({ email: "bob@new.example.com", currentPassword: PASSWORD })).status).toBe(200);
    const token = await t.app.services.oneTimeTokens.issue("email_verify", { userId: res.body.id, data: { email: "bob@new.example.com" }, ttlSeconds: 60 });
    expect((await t.http().post("/api/email/verify").send({ token })).body.emailVerified).toBe(true);
  });
});

describe("limits", () => {
  let app: MailApp;
  afterEach(() => app.close());

  it("per IP (RATE_LIMIT_MAIL_PER_IP): forgot and verification requests share it; then 429 with Retry-After", async () => {
    app = await makeMailApp({ RATE_LIMIT_MAIL_PER_IP: "3" });
    const { t } = app;
    await accountWithEmail(t, "alice", "alice@example.com");
    const cookie = await loginAs(t, "alice", PASSWORD);
    expect((await t.http().post("/api/password/forgot").send({ uid: "nobody" })).status).toBe(202);
    expect((await t.http().post("/api/password/forgot").send({ email: "x@example.com" })).status).toBe(202);
    expect((await t.http().post("/api/email/verification").set("Cookie", cookie)).status).toBe(202);
    const limited = await t.http().post("/api/password/forgot").send({ uid: "alice" });
    expectError(limited, 429, "RATE_LIMITED");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expectError(await t.http().post("/api/email/verification").set("Cookie", cookie), 429, "RATE_LIMITED");
  });

  it("per account: one mail a minute and MAIL_PER_ACCOUNT_PER_HOUR an hour, reset and verification together, silently", async () => {
    app = await makeMailApp({ MAIL_PER_ACCOUNT_PER_HOUR: "2" });
    const { t, mail } = app;
    const alice = await accountWithEmail(t, "alice", "alice@example.com");
    const cookie = await loginAs(t, "alice", PASSWORD);
    const forgot = () => t.http().post("/api/password/forgot").send({ uid: "alice" });
    const mailsToAlice = () => mail.inbox.filter(to("alice@example.com")).length;

    expect((await forgot()).body).toEqual(FORGOT);
    await mail.waitForMail(resetMailTo("alice@example.com"), "the first reset link");
    // Within the minute: the same answers, no mail.
    expect((await forgot()).body).toEqual(FORGOT);
    const verification = await t.http().post("/api/email/verification").set("Cookie", cookie);
    expect({ status: verification.status, body: verification.body }).toEqual({ status: 202, body: { message: "Verification mail sent" } });
    await mail.expectNoMail((m) => to("alice@example.com")(m) && mail.inbox.indexOf(m) > 0, 500, "to alice within the cooldown");
    await settle(t);
    expect(mailsToAlice()).toBe(1);
    // A minute later: the second (and last this hour) mail.
    await pastMailCooldown(t, alice.id);
    expect((await t.http().post("/api/email/verification").set("Cookie", cookie)).status).toBe(202);
    await mail.waitForMail((m) => mail.inbox.indexOf(m) === 1, "the verification mail");
    await pastMailCooldown(t, alice.id);
    expect((await forgot()).body).toEqual(FORGOT);
    await settle(t);
    expect(mailsToAlice()).toBe(2);
    expect(await t.sql(`SELECT "purpose" FROM "OneTimeToken" ORDER BY "createdAt"`)).toEqual([{ purpose: "password_reset" }, { purpose: "email_verify" }]);
  });
});

describe("the console transport (development)", () => {
  let t: TestApp;
  afterEach(async () => {
    jest.restoreAllMocks();
    await settle(t);
    await t.close();
  });

  it("prints the recipient, subject and link on stdout, outside the JSON log", async () => {
    const logs = captureLogs();
    t = await makeTestApp({ MAIL_TRANSPORT: "console" }, { logger: logs.logger });
    const printed: string[] = [];
    jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    await accountWithEmail(t, "alice", "alice@example.com");
    expect((await t.http().post("/api/password/forgot").send({ uid: "alice" })).status).toBe(202);
    await settle(t);
    jest.restoreAllMocks();
    const output = printed.join("");
    expect(output).toContain("To: alice@example.com");
    expect(output).toContain("Subject: Reset your crossauth password");
    const link = /http:\/\/localhost:4100\/reset-password\.html#token=[\w-]{43}/.exec(output);
    expect(link).not.toBeNull();
    expect(logs.lines()).not.toContain((link as RegExpExecArray)[0].split("#token=")[1]);
    expect(logs.events().map((e) => e.event)).toContain("mail_sent");
  });
});

describe("delivery", () => {
  const message = { to: "alice@example.com", subject: "Reset your crossauth password", text: "the link: http://localhost:4100/reset-password.html#token=SECRET-TOKEN", purpose: "password_reset" as const, uid: "alice" };
  const mailConfig = (smtpUrl: string) => ({ frontendUrl: "http://localhost:4100", mail: { ...makeConfigMail(), transport: "smtp" as const, smtpUrl } });

  it("retries with backoff, then gives up and logs the failure without the mail's text or link", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const logs = captureLogs();
    const mailer = createMailer({ config: mailConfig(`smtp://127.0.0.1:${closedPort}`), logger: logs.logger, retryDelaysMs: [20, 40] });
    expect(await mailer.send(message)).toBe(false);
    const events = logs.events();
    expect(events.map((e) => e.event)).toEqual(["mail_retry", "mail_retry", "mail_failed"]);
    expect(events[2]).toMatchObject({ level: 50, purpose: "password_reset", uid: "alice", attempt: 3, code: expect.any(String) });
    expect(logs.lines()).not.toMatch(/SECRET-TOKEN|reset-password\.html|the link/);
    mailer.close();
  });

  it("delivers on a later attempt when the mail server refuses for a moment (451)", async () => {
    let refusals = 1;
    const received: string[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onData(stream, _session, done) {
        stream.resume();
        stream.on("end", () => {
          if (refusals-- > 0) return done(Object.assign(new Error("try again later"), { responseCode: 451 }));
          received.push("mail");
          done();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const logs = captureLogs();
    const mailer = createMailer({ config: mailConfig(`smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`), logger: logs.logger, retryDelaysMs: [20] });
    try {
      expect(await mailer.send(message)).toBe(true);
      expect(received).toEqual(["mail"]);
      expect(logs.events().map((e) => [e.event, e.responseCode ?? null])).toEqual([
        ["mail_retry", 451],
        ["mail_sent", null],
      ]);
    } finally {
      mailer.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("closing the mailer (shutdown) ends a pending retry as a failure", async () => {
    const catcher = await startMailCatcher();
    const url = catcher.url;
    await catcher.close();
    const logs = captureLogs();
    const mailer = createMailer({ config: mailConfig(url), logger: logs.logger, retryDelaysMs: [60_000] });
    const sending = mailer.send(message);
    await new Promise((resolve) => setTimeout(resolve, 300));
    mailer.close();
    expect(await sending).toBe(false);
    await mailer.idle();
    expect(logs.events().map((e) => e.event)).toEqual(["mail_retry", "mail_failed"]);
  });
});

function makeConfigMail() {
  return { transport: "smtp" as const, smtpUrl: null as string | null, from: "crossauth <no-reply@localhost>", resetTtlSeconds: 1800, verifyTtlSeconds: 86_400, perIpPerMinute: 5, perAccountPerHour: 3 };
}

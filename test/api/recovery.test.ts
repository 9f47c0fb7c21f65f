// Password reset by mail (docs/recovery.md), through a real SMTP server on loopback: `forgot` says the same,
// as fast, whether or not an account matches; a link resets once, ends every session, clears the lock, and dies
// when it expires, when the address changes, or when another reset wins the race.
import { captureLogs, expectError, loginAs, tokenOf, sessionCookieOf, type TestApp } from "./helpers";
import { linkOf } from "./support/mail-catcher";
import { accountWithEmail, makeMailApp, NEW_PASSWORD, PASSWORD, pastMailCooldown, resetMailTo, resetTokenFor, settle, type MailApp } from "./support/recovery";

const FORGOT_BODY = { message: "If an account matches, we have sent it a reset link" };

let app: MailApp;
let t: TestApp;
afterEach(async () => {
  await app?.close();
});

async function open(env: Record<string, string> = {}, options: Parameters<typeof makeMailApp>[1] = {}) {
  app = await makeMailApp(env, options);
  t = app.t;
}

const forgot = (body: object) => t.http().post("/api/password/forgot").send(body);
const reset = (body: object) => t.http().post("/api/password/reset").send(body);
const login = (uid: string, password: string) => t.http().post("/api/authenticate").send({ uid, password });

describe("POST /api/password/forgot", () => {
  it("answers 202 with the same body for a known and an unknown account; only the known one gets a mail", async () => {
    await open();
    await accountWithEmail(t, "alice", "Alice@Example.com");
    const known = await forgot({ email: "alice@example.COM" });
    const unknown = await forgot({ email: "nobody@example.com" });
    const unknownUid = await forgot({ uid: "nobody" });
    for (const res of [known, unknown, unknownUid]) expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: FORGOT_BODY });
    const mail = await app.mail.waitForMail(resetMailTo("Alice@Example.com"), "to alice");
    // The mail names the account, leads to the frontend's page (never the API) and says what to do if unasked.
    expect(mail.text).toContain('GitHub ID "alice"');
    expect(mail.text).toMatch(/did not ask for this/);
    const { link, token } = linkOf(mail);
    expect(`${link.origin}${link.pathname}`).toBe("http://localhost:4100/reset-password.html");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await app.mail.expectNoMail((m) => /nobody/.test(m.to), 500, "to an unknown account");
    await settle(t);
    expect(app.mail.inbox).toHaveLength(1);
  });

  it("reaches an account by its GitHub ID (any case), at its stored address; an account without one gets nothing", async () => {
    await open();
    await accountWithEmail(t, "Bob", "bob@example.com");
    await accountWithEmail(t, "carol", null);
    expect((await forgot({ uid: "bob" })).status).toBe(202);
    const mail = await app.mail.waitForMail(resetMailTo("bob@example.com"), "to bob");
    expect(mail.text).toContain('GitHub ID "Bob"');
    expect((await forgot({ uid: "carol" })).body).toEqual(FORGOT_BODY);
    await settle(t);
    expect(app.mail.inbox.map((m) => m.to)).toEqual(["bob@example.com"]);
  });

  it("sends one mail per account sharing the address, at most 5", async () => {
    await open();
    for (let i = 1; i <= 6; i++) await accountWithEmail(t, `shared${i}`, i % 2 ? "team@example.com" : "TEAM@example.com");
    expect((await forgot({ email: "Team@Example.com" })).status).toBe(202);
    await settle(t);
    const uids = app.mail.inbox.map((m) => /GitHub ID "([^"]+)"/.exec(m.text)?.[1]).sort();
    expect(uids).toEqual(["shared1", "shared2", "shared3", "shared4", "shared5"]);
  });

  it("refuses a body without exactly one of email and uid, or with malformed values (400, nothing sent)", async () => {
    await open();
    await accountWithEmail(t, "alice", "alice@example.com");
    for (const body of [{}, { email: "alice@example.com", uid: "alice" }, { email: "not-an-address" }, { uid: "a b" }, { email: "alice@example.com", extra: 1 }]) {
      expectError(await forgot(body), 400, "VALIDATION_FAILED");
    }
    await settle(t);
    expect(app.mail.inbox).toHaveLength(0);
  });

  it("takes as long for an unknown account as for a known one: the lookup and the (slow) sending come after the answer", async () => {
    // A slow mail server (each mail's last reply held 400 ms) and a bcrypt cost where one hash takes well over the
    // tolerance: an answer that awaited the send, or a hash, would stand out.
    await open({ BCRYPT_ROUNDS: "11" }, { delayMs: 400 });
    const TOLERANCE_MS = 80;
    const ROUNDS = 9;
    const started = process.hrtime.bigint();
    await t.hasher.hash("a-password-to-time");
    const hashMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(hashMs).toBeGreaterThan(TOLERANCE_MS); // otherwise this test could not see an awaited hash

    for (let i = 0; i <= ROUNDS; i++) await accountWithEmail(t, `timed${i}`, `timed${i}@example.com`);
    const timeOf = async (body: object) => {
      const begin = process.hrtime.bigint();
      const res = await forgot(body);
      const ms = Number(process.hrtime.bigint() - begin) / 1e6;
      expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: FORGOT_BODY });
      await settle(t); // the mail (if any) is out before the next request is timed
      return ms;
    };
    await timeOf({ email: "timed0@example.com" }); // warm-up, both paths
    await timeOf({ email: "nobody0@example.com" });
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      known.push(await timeOf({ email: `timed${i}@example.com` }));
      unknown.push(await timeOf({ email: `nobody${i}@example.com` }));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    // Every known account did get its mail (so the slow send really happened, just not in the answer).
    expect(app.mail.inbox.filter((m) => /timed[1-9]@/.test(m.to))).toHaveLength(ROUNDS);
    expect(Math.abs(median(known) - median(unknown))).toBeLessThan(TOLERANCE_MS);
    expect(median(known)).toBeLessThan(400); // far below the mail server's delay
  });
});

describe("POST /api/password/reset", () => {
  it("sets the password, ends every session, spends the link and the account's other links", async () => {
    await open();
    const alice = await accountWithEmail(t, "alice", "alice@example.com");
    const first = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
    await pastMailCooldown(t, alice.id);
    const second = await resetTokenFor(app, { email: "alice@example.com" }, "alice@example.com");
    const sessions = [await loginAs(t, "alice", PASSWORD), await loginAs(t, "alice", PASSWORD)];

    const res = await reset({ token: second, password: NEW_PASSWORD });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { message: "Password changed; please log in" } });
    for (const cookie of sessions) expectError(await t.http().get("/api/id").set("Cookie", cookie), 401, "TOKEN_REVOKED");
    expectError(await login("alice", PASSWORD), 401, "INVALID_CREDENTIALS");
    expect((await login("alice", NEW_PASSWORD)).status).toBe(200);
    // Used once; the other link of the account died with it.
    expectError(await reset({ token: second, password: "another-pass-88" }), 400, "RESET_TOKEN_INVALID");
    expectError(await reset({ token: first, password: "another-pass-88" }), 400, "RESET_TOKEN_INVALID");
    expect((await login("alice", NEW_PASSWORD)).status).toBe(200);
    const [{ n }] = await t.sql<{ n: number }>(`SELECT CAST(count(*) AS INTEGER) AS n FROM "OneTimeToken" WHERE "userId" = ?`, [alice.id]);
    expect(n).toBe(0);
  });

  it("refuses a weak password with the field's reason and leaves the link usable", async () => {
    await open();
    await accountWithEmail(t, "alice", "alice@example.com");
    const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
    const short = await reset({ token, password: "short" });
    expectError(short, 400, "VALIDATION_FAILED");
    expect(short.body.data).toEqual([{ field: "password", message: expect.any(String) }]);
    const guessable = await reset({ token, password: "alice-alice" });
    expectError(guessable, 400, "VALIDATION_FAILED");
    expect(guessable.body.data[0].field).toBe("password");
    expect((await login("alice", PASSWORD)).status).toBe(200); // nothing changed
    expect((await reset({ token, password: NEW_PASSWORD })).status).toBe(200);
  });

  it("gives exactly one of 8 parallel resets with one link a 200; the others 400 RESET_TOKEN_INVALID", async () => {
    await open();
    await accountWithEmail(t, "alice", "alice@example.com");
    const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
    const passwords = Array.from({ length: 8 }, (_, i) => `parallel-pass-${i}-x9`);
    const results = await Promise.all(passwords.map((password) => reset({ token, password })));
    const winners = results.flatMap((res, i) => (res.status === 200 ? [passwords[i]] : []));
    expect(winners).toHaveLength(1);
    for (const res of results.filter((r) => r.status !== 200)) expectError(res, 400, "RESET_TOKEN_INVALID");
    expect((await login("alice", winners[0])).status).toBe(200);
  });

  it("refuses an expired link, an unknown one, and one made for another purpose", async () => {
    await open();
    const alice = await accountWithEmail(t, "alice", "alice@example.com");
    const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
    t.advance(t.config.mail.resetTtlSeconds * 1000 + 1000);
    expectError(await reset({ token, password: NEW_PASSWORD }), 400, "RESET_TOKEN_INVALID");
    expectError(await reset({ token: "A".repeat(43), password: NEW_PASSWORD }), 400, "RESET_TOKEN_INVALID");
    expectError(await reset({ token: "not a token", password: NEW_PASSWORD }), 400, "RESET_TOKEN_INVALID");
    const verifyToken = await t.app.services.oneTimeTokens.issue("email_verify", { userId: alice.id, data: { email: "alice@example.com" }, ttlSeconds: 600 });
    expectError(await reset({ token: verifyToken, password: NEW_PASSWORD }), 400, "RESET_TOKEN_INVALID");
    expectError(await reset({ password: NEW_PASSWORD }), 400, "VALIDATION_FAILED");
    expect((await login("alice", PASSWORD)).status).toBe(200);
  });

  it("refuses a link sent to an address the account has changed since", async () => {
    await open();
    await accountWithEmail(t, "alice", "alice@example.com");
    const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
    const cookie = await loginAs(t, "alice", PASSWORD);
    const changed = await t.http().put("/api/user").set("Cookie", cookie).send({ email: "alice@new.example.com", currentPassword: PASSWORD });
    expect(changed.status).toBe(200);
    expectError(await reset({ token, password: NEW_PASSWORD }), 400, "RESET_TOKEN_INVALID");
    // Even a link row that survived the change (made here by hand) is void: it went to the old address.
    const [{ id }] = await t.sql<{ id: number }>(`SELECT "id" FROM "User" WHERE "uidKey" = 'alice'`);
    const stale = await t.app.services.oneTimeTokens.issue("password_reset", { userId: id, data: { email: "alice@example.com" }, ttlSeconds: 600 });
    expectError(await reset({ token: stale, password: NEW_PASSWORD }), 400, "RESET_TOKEN_INVALID");
    expect((await login("alice", PASSWORD)).status).toBe(200);
  });

  it("clears the account's login lock", async () => {
    await open({ LOGIN_MAX_FAILURES: "3", LOGIN_LOCK_SECONDS: "600" });
    await accountWithEmail(t, "alice", "alice@example.com");
    for (let i = 0; i < 3; i++) expectError(await login("alice", "wrong-password"), 401, "INVALID_CREDENTIALS");
    expectError(await login("alice", PASSWORD), 429, "RATE_LIMITED");
    const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
    expect((await reset({ token, password: NEW_PASSWORD })).status).toBe(200);
    expect((await login("alice", NEW_PASSWORD)).status).toBe(200);
  });

  it("marks the address verified (the link reached it) and clears the cookie of the browser that reset", async () => {
    await open();
    await accountWithEmail(t, "alice", "alice@example.com");
    expect((await login("alice", PASSWORD)).body.user.emailVerified).toBe(false);
    const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
    const res = await reset({ token, password: NEW_PASSWORD });
    expect(tokenOf(sessionCookieOf(res, t.config.jwt.cookieName))).toBe("");
    const again = await login("alice", NEW_PASSWORD);
    expect(again.body.user.emailVerified).toBe(true);
  });

  it("gives a GitHub-made account (no password yet) its first password", async () => {
    await open();
    const alice = await accountWithEmail(t, "alice", "alice@example.com");
    await t.sqlElsewhere(`UPDATE "User" SET "passwordHash" = NULL WHERE "id" = ${alice.id}`);
    const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
    expect((await reset({ token, password: NEW_PASSWORD })).status).toBe(200);
    expect((await login("alice", NEW_PASSWORD)).status).toBe(200);
  });
});

describe("logs", () => {
  it("never hold a token or a link, from the request to the reset", async () => {
    const logs = captureLogs();
    await open({}, { logger: logs.logger });
    await accountWithEmail(t, "alice", "alice@example.com");
    const token = await resetTokenFor(app, { email: "alice@example.com" }, "alice@example.com");
    await forgot({ email: "nobody@example.com" });
    expect((await reset({ token: token, password: NEW_PASSWORD })).status).toBe(200);
    expectError(await reset({ token, password: NEW_PASSWORD }), 400, "RESET_TOKEN_INVALID");
    await settle(t);
    const text = logs.lines();
    const events = logs.events().map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(["password_reset_requested", "mail_sent", "password_reset_completed"]));
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/#token=|reset-password\.html|verify-email\.html/);
    expect(text).not.toContain(NEW_PASSWORD);
  });
});

// Two-factor authentication (docs/two-factor.md): enrolment, the login's two steps, code windows and replay,
// recovery codes, the lock, turning it off and the admin's reset — through HTTP, with codes computed by otpauth
// on the app's own clock.
import * as OTPAuth from "otpauth";
import { captureLogs, expectError, loginAs, makeTestApp, sessionCookieOf, type TestApp } from "./helpers";
import {
  account,
  CHALLENGE_COOKIE,
  challengeOf,
  codeAt,
  enrolled,
  firstStep,
  login,
  loginWithCode,
  nextStep,
  PASSWORD,
  secondStep,
  setCookies,
} from "./support/two-factor";

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const id = (cookie: string) => t.http().get("/api/id").set("Cookie", cookie);

describe("enrolment", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("needs the current password, shows a secret, an otpauth URI and a QR code, and stays off until a right code", async () => {
    await account(t, "alice");
    const cookie = await login(t, "alice");
    const setup = (body: object) => t.http().post("/api/mfa/totp/setup").set("Cookie", cookie).send(body);

    expectError(await t.http().post("/api/mfa/totp/setup").send({ currentPassword: PASSWORD }), 401, "TOKEN_MISSING");
    const missing = await setup({});
    expectError(missing, 400, "VALIDATION_FAILED");
    expect(missing.body.data).toEqual([{ field: "currentPassword", message: expect.stringMatching(/required/) }]);
    const wrong = await setup({ currentPassword: "not-my-password" });
    expectError(wrong, 400, "VALIDATION_FAILED");
    expect(wrong.body.data).toEqual([{ field: "currentPassword", message: "is incorrect" }]);

    const res = await setup({ currentPassword: PASSWORD });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["otpauthUri", "qr", "secret"]);
    expect(res.body.qr).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    const totp = OTPAuth.URI.parse(res.body.otpauthUri) as OTPAuth.TOTP;
    expect(totp).toBeInstanceOf(OTPAuth.TOTP);
    expect({ issuer: totp.issuer, label: totp.label, algorithm: totp.algorithm, digits: totp.digits, period: totp.period }).toEqual({
      issuer: "crossauth",
      label: "alice",
      algorithm: "SHA1",
      digits: 6,
      period: 30,
    });
    expect(totp.secret.base32).toBe(res.body.secret);
    expect(res.body.secret).toMatch(/^[A-Z2-7]{32}$/); // 20 bytes

    // Pending: not on, the password alone still signs in.
    expect((await id(cookie)).body.mfaEnabled).toBe(false);
    expect((await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD })).status).toBe(200);

    // A wrong code does not turn it on; nor does a code of a setup that was replaced.
    const confirm = (code: string, c = cookie) => t.http().post("/api/mfa/totp/confirm").set("Cookie", c).send({ code });
    expectError(await confirm("000000"), 400, "MFA_CODE_INVALID");
    expectError(await confirm("not a code"), 400, "MFA_CODE_INVALID");
    const again = await setup({ currentPassword: PASSWORD });
    expect(again.body.secret).not.toBe(res.body.secret);
    const stale = await confirm(codeAt(t, res.body.otpauthUri));
    expectError(stale, 400, "MFA_CODE_INVALID");
    expect((await id(cookie)).body.mfaEnabled).toBe(false);
    expect((await t.http().get("/api/mfa").set("Cookie", cookie)).body).toEqual({ enabled: false, recoveryCodesLeft: 0 });
  });

  it("a right code turns it on, shows ten recovery codes once, ends the other sessions and re-issues this one", async () => {
    const { id: userId } = await account(t, "alice");
    const cookie = await login(t, "alice");
    const otherSession = await login(t, "alice");
    const setup = await t.http().post("/api/mfa/totp/setup").set("Cookie", cookie).send({ currentPassword: PASSWORD });
    const res = await t.http().post("/api/mfa/totp/confirm").set("Cookie", cookie).send({ code: ` ${codeAt(t, setup.body.otpauthUri).replace(/(\d{3})/, "$1 ")} ` });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["recoveryCodes"]);
    const codes: string[] = res.body.recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{5}-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{5}$/);

    const renewed = sessionCookieOf(res);
    expect(renewed).not.toBe(cookie);
    expectError(await id(cookie), 401, "TOKEN_REVOKED");
    expectError(await id(otherSession), 401, "TOKEN_REVOKED");
    expect((await id(renewed)).body).toMatchObject({ uid: "alice", mfaEnabled: true });
    expect((await t.http().get("/api/mfa").set("Cookie", renewed)).body).toEqual({ enabled: true, recoveryCodesLeft: 10 });
    const [row] = await t.sql<{ confirmedAt: unknown; lastUsedStep: number }>('SELECT "confirmedAt", "lastUsedStep" FROM "TotpFactor" WHERE "userId" = ?', [userId]);
    expect(row.confirmedAt).not.toBeNull();
    expect(Number(row.lastUsedStep)).toBe(Math.floor(t.app.services.now() / 30_000));

    // On already: a new setup or confirmation is refused, and nothing changes.
    expectError(await t.http().post("/api/mfa/totp/setup").set("Cookie", renewed).send({ currentPassword: PASSWORD }), 409, "MFA_ALREADY_ENABLED");
    nextStep(t);
    expectError(await t.http().post("/api/mfa/totp/confirm").set("Cookie", renewed).send({ code: codeAt(t, setup.body.otpauthUri) }), 409, "MFA_ALREADY_ENABLED");
    expect((await t.http().get("/api/mfa").set("Cookie", renewed)).body).toEqual({ enabled: true, recoveryCodesLeft: 10 });
  });

  it("the confirming code's step is claimed: it cannot be used again to sign in", async () => {
    await account(t, "alice");
    const cookie = await login(t, "alice");
    const setup = await t.http().post("/api/mfa/totp/setup").set("Cookie", cookie).send({ currentPassword: PASSWORD });
    const code = codeAt(t, setup.body.otpauthUri);
    expect((await t.http().post("/api/mfa/totp/confirm").set("Cookie", cookie).send({ code })).status).toBe(200);
    const challenge = await firstStep(t, "alice");
    expectError(await secondStep(t, challenge, { code }), 401, "MFA_CODE_INVALID");
  });

  it("confirm without a setup waiting is 400 MFA_CODE_INVALID in words", async () => {
    await account(t, "alice");
    const cookie = await login(t, "alice");
    const res = await t.http().post("/api/mfa/totp/confirm").set("Cookie", cookie).send({ code: "123456" });
    expectError(res, 400, "MFA_CODE_INVALID");
    expect(res.body.message).toMatch(/start the setup again/);
    expectError(await t.http().post("/api/mfa/totp/confirm").set("Cookie", cookie).send({}), 400, "VALIDATION_FAILED");
    expectError(await t.http().post("/api/mfa/totp/confirm").set("Cookie", cookie).send({ code: "123456", extra: 1 }), 400, "VALIDATION_FAILED");
  });
});

describe("login", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("the password answers 401 MFA_REQUIRED with a challenge cookie and no session; the code signs in like a login", async () => {
    const alice = await enrolled(t, "alice");
    const first = await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD });
    expectError(first, 401, "MFA_REQUIRED");
    expect(first.body).toEqual({
      message: "Enter the code from your authenticator app",
      data: { methods: ["totp", "recovery_code"], expiresIn: 300 },
      error: "Unauthorized",
      code: "MFA_REQUIRED",
    });
    const cookies = setCookies(first);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^__Host-mfa_challenge=[A-Za-z0-9_-]{43}; Max-Age=300; Path=\/; HttpOnly; Secure; Partitioned; SameSite=None$/);
    const challenge = challengeOf(first);

    const res = await secondStep(t, challenge, { code: codeAt(t, alice.uri) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Authentication for alice successful", user: expect.objectContaining({ uid: "alice", mfaEnabled: true }) });
    expect(Object.keys(res.body.user)).not.toContain("tokenVersion");
    const session = setCookies(res).find((c) => c.startsWith("__Host-jwt_token="));
    expect(session).toMatch(/^__Host-jwt_token=[^;]+; Max-Age=3600; Path=\/; HttpOnly; Secure; Partitioned; SameSite=None$/);
    expect(setCookies(res)).toContain(`${CHALLENGE_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; Partitioned; SameSite=None`);
    expect((await id(sessionCookieOf(res))).body.uid).toBe("alice");

    // Single use.
    nextStep(t);
    expectError(await secondStep(t, challenge, { code: codeAt(t, alice.uri) }), 401, "MFA_CHALLENGE_INVALID");
  });

  it("without a live challenge the second step is 401 MFA_CHALLENGE_INVALID and the cookie is cleared", async () => {
    const alice = await enrolled(t, "alice");
    const code = codeAt(t, alice.uri);
    const none = await t.http().post("/api/authenticate/mfa").send({ code });
    expectError(none, 401, "MFA_CHALLENGE_INVALID");
    expect(setCookies(none)).toContain(`${CHALLENGE_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; Partitioned; SameSite=None`);
    expectError(await secondStep(t, `${CHALLENGE_COOKIE}=forged`, { code }), 401, "MFA_CHALLENGE_INVALID");
    expectError(await secondStep(t, `${CHALLENGE_COOKIE}=${"A".repeat(43)}`, { code }), 401, "MFA_CHALLENGE_INVALID");
    // A session cookie is not a challenge.
    expectError(await secondStep(t, alice.cookie, { code }), 401, "MFA_CHALLENGE_INVALID");

    // Expired after MFA_CHALLENGE_TTL_SECONDS.
    const challenge = await firstStep(t, "alice");
    t.advance(301_000);
    expectError(await secondStep(t, challenge, { code: codeAt(t, alice.uri) }), 401, "MFA_CHALLENGE_INVALID");
    // Nothing was spent: the same code still works with a new challenge.
    expect((await secondStep(t, await firstStep(t, "alice"), { code: codeAt(t, alice.uri) })).status).toBe(200);
  });

  it("checks the body: one of code and recoveryCode, nothing else", async () => {
    await enrolled(t, "alice");
    const challenge = await firstStep(t, "alice");
    for (const body of [{}, { code: "123456", recoveryCode: "ABCDE-FGHJK" }, { code: 123456 }, { code: "123456", uid: "alice" }]) {
      expectError(await secondStep(t, challenge, body), 400, "VALIDATION_FAILED");
    }
  });

  it("a wrong password is INVALID_CREDENTIALS with no challenge; a pending setup does not ask for a code", async () => {
    await enrolled(t, "alice");
    const wrong = await t.http().post("/api/authenticate").send({ uid: "alice", password: "wrong-password" });
    expectError(wrong, 401, "INVALID_CREDENTIALS");
    expect(setCookies(wrong)).toEqual([]);

    await account(t, "bob");
    const bob = await login(t, "bob");
    await t.http().post("/api/mfa/totp/setup").set("Cookie", bob).send({ currentPassword: PASSWORD });
    expect((await t.http().post("/api/authenticate").send({ uid: "bob", password: PASSWORD })).status).toBe(200);
  });

  it("a password or role change after the first step ends the challenge", async () => {
    const alice = await enrolled(t, "alice");
    const challenge = await firstStep(t, "alice");
    const admin = await loginAs(t, "admin");
    expect((await t.http().put("/api/user/alice").set("Cookie", admin).send({ password: "violet-harbor-77" })).status).toBe(200);
    expectError(await secondStep(t, challenge, { code: codeAt(t, alice.uri) }), 401, "MFA_CHALLENGE_INVALID");
    expect((await secondStep(t, await firstStep(t, "alice", "violet-harbor-77"), { code: codeAt(t, alice.uri) })).status).toBe(200);
  });

  it("without COOKIE_PARTITIONED the challenge cookie is not partitioned either, like the session cookie", async () => {
    await t.close();
    t = await makeTestApp({ COOKIE_PARTITIONED: "false" });
    await enrolled(t, "alice");
    const first = await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD });
    expect(setCookies(first)[0]).toMatch(/^__Host-mfa_challenge=[A-Za-z0-9_-]{43}; Max-Age=300; Path=\/; HttpOnly; Secure; SameSite=None$/);
  });
});

describe("codes", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("codes of ±30 s pass, ±60 s fail", async () => {
    const alice = await enrolled(t, "alice");
    nextStep(t); // the confirming code's step is now two steps back
    const challenge = await firstStep(t, "alice");
    expectError(await secondStep(t, challenge, { code: codeAt(t, alice.uri, -60_000) }), 401, "MFA_CODE_INVALID");
    expectError(await secondStep(t, challenge, { code: codeAt(t, alice.uri, 60_000) }), 401, "MFA_CODE_INVALID");
    expect((await secondStep(t, challenge, { code: codeAt(t, alice.uri, -30_000) })).status).toBe(200);
    expect((await secondStep(t, await firstStep(t, "alice"), { code: codeAt(t, alice.uri, 30_000) })).status).toBe(200);
  });

  it("a used code, or an older one within the window, is refused afterwards (replay)", async () => {
    const alice = await enrolled(t, "alice");
    const current = codeAt(t, alice.uri);
    const previous = codeAt(t, alice.uri, -30_000);
    expect((await secondStep(t, await firstStep(t, "alice"), { code: current })).status).toBe(200);
    const challenge = await firstStep(t, "alice");
    const replay = await secondStep(t, challenge, { code: current });
    expectError(replay, 401, "MFA_CODE_INVALID");
    expect(replay.body.data).toEqual({ attemptsLeft: 4 });
    expectError(await secondStep(t, challenge, { code: previous }), 401, "MFA_CODE_INVALID");
    // The next step's code works (the same challenge: wrong codes did not end it).
    nextStep(t);
    expect((await secondStep(t, challenge, { code: codeAt(t, alice.uri) })).status).toBe(200);
  });
});

describe("recovery codes", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("each signs in once, however it is typed", async () => {
    const alice = await enrolled(t, "alice");
    const [first, second] = alice.recoveryCodes;
    const typed = ` ${first.toLowerCase().replace("-", " ")} `;
    const res = await secondStep(t, await firstStep(t, "alice"), { recoveryCode: typed });
    expect(res.status).toBe(200);
    expect((await id(sessionCookieOf(res))).body.uid).toBe("alice");
    expectError(await secondStep(t, await firstStep(t, "alice"), { recoveryCode: first }), 401, "MFA_CODE_INVALID");
    expectError(await secondStep(t, await firstStep(t, "alice"), { recoveryCode: "ZZZZZ-ZZZZZ" }), 401, "MFA_CODE_INVALID");
    // Crockford: O is read as 0, I and L as 1.
    const lookalike = second.replace(/0/g, "O").replace(/1/g, "l");
    expect((await secondStep(t, await firstStep(t, "alice"), { recoveryCode: lookalike })).status).toBe(200);
    expect((await t.http().get("/api/mfa").set("Cookie", alice.cookie)).body).toEqual({ enabled: true, recoveryCodesLeft: 8 });
  });

  it("a new set needs a code and replaces the old set at once", async () => {
    const alice = await enrolled(t, "alice");
    const regenerate = (code: unknown) => t.http().post("/api/mfa/recovery-codes").set("Cookie", alice.cookie).send({ code });
    expectError(await regenerate("000000"), 400, "MFA_CODE_INVALID");
    expectError(await regenerate("ZZZZZ-ZZZZZ"), 400, "MFA_CODE_INVALID");
    expectError(await regenerate(""), 400, "VALIDATION_FAILED");
    expectError(await t.http().post("/api/mfa/recovery-codes").send({ code: codeAt(t, alice.uri) }), 401, "TOKEN_MISSING");

    const res = await regenerate(codeAt(t, alice.uri));
    expect(res.status).toBe(200);
    const fresh: string[] = res.body.recoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => alice.recoveryCodes.includes(c))).toEqual([]);
    expectError(await secondStep(t, await firstStep(t, "alice"), { recoveryCode: alice.recoveryCodes[0] }), 401, "MFA_CODE_INVALID");
    expect((await secondStep(t, await firstStep(t, "alice"), { recoveryCode: fresh[0] })).status).toBe(200);

    // A recovery code is accepted as the code, and is spent; then the whole set is new anyway.
    const again = await regenerate(fresh[1]);
    expect(again.status).toBe(200);
    expect((await t.http().get("/api/mfa").set("Cookie", alice.cookie)).body).toEqual({ enabled: true, recoveryCodesLeft: 10 });
  });

  it("without two-factor on there is nothing to replace", async () => {
    await account(t, "bob");
    const bob = await login(t, "bob");
    const res = await t.http().post("/api/mfa/recovery-codes").set("Cookie", bob).send({ code: "123456" });
    expectError(res, 400, "MFA_CODE_INVALID");
    expect(res.body.message).toMatch(/off/);
  });
});

describe("wrong codes and the account lock", () => {
  it("the fifth wrong code ends the challenge; every wrong code counts toward the lock; a right password alone does not clear it", async () => {
    t = await makeTestApp({ LOGIN_MAX_FAILURES: "7" });
    const alice = await enrolled(t, "alice");
    const challenge = await firstStep(t, "alice");
    for (const left of [4, 3, 2, 1]) {
      const res = await secondStep(t, challenge, { code: "000000" });
      expectError(res, 401, "MFA_CODE_INVALID");
      expect(res.body.data).toEqual({ attemptsLeft: left });
    }
    const fifth = await secondStep(t, challenge, { code: "000000" });
    expectError(fifth, 401, "MFA_CHALLENGE_INVALID");
    expect(fifth.body.data).toEqual({ reason: "too_many_codes" });
    expect(setCookies(fifth)).toContain(`${CHALLENGE_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; Partitioned; SameSite=None`);
    expectError(await secondStep(t, challenge, { code: codeAt(t, alice.uri) }), 401, "MFA_CHALLENGE_INVALID");

    // Five failures so far; the right password starts a new challenge but does not reset the count.
    const next = await firstStep(t, "alice");
    expectError(await secondStep(t, next, { code: "000000" }), 401, "MFA_CODE_INVALID");
    expectError(await secondStep(t, next, { recoveryCode: "ZZZZZ-ZZZZZ" }), 401, "MFA_CODE_INVALID");
    // Seven: locked, for the right code too, and for the password.
    const locked = await secondStep(t, next, { code: codeAt(t, alice.uri) });
    expectError(locked, 429, "RATE_LIMITED");
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    expectError(await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD }), 429, "RATE_LIMITED");
  });

  it("password + wrong codes, repeated, still locks; a completed sign-in clears the count", async () => {
    t = await makeTestApp({ LOGIN_MAX_FAILURES: "5" });
    const alice = await enrolled(t, "alice");
    for (let round = 0; round < 2; round++) {
      const challenge = await firstStep(t, "alice");
      expectError(await secondStep(t, challenge, { code: "000000" }), 401, "MFA_CODE_INVALID");
      expectError(await secondStep(t, challenge, { code: "111111" }), 401, "MFA_CODE_INVALID");
    }
    // Four failures: a completed sign-in clears them.
    expect((await secondStep(t, await firstStep(t, "alice"), { code: codeAt(t, alice.uri) })).status).toBe(200);
    nextStep(t);
    for (let round = 0; round < 2; round++) {
      const challenge = await firstStep(t, "alice");
      expectError(await secondStep(t, challenge, { code: "000000" }), 401, "MFA_CODE_INVALID");
      expectError(await secondStep(t, challenge, { code: "111111" }), 401, "MFA_CODE_INVALID");
    }
    const challenge = await firstStep(t, "alice");
    expectError(await secondStep(t, challenge, { code: "222222" }), 401, "MFA_CODE_INVALID"); // the fifth
    expectError(await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD }), 429, "RATE_LIMITED");
    expectError(await secondStep(t, challenge, { code: codeAt(t, alice.uri) }), 429, "RATE_LIMITED");
  });

  it("wrong codes on the signed-in routes count toward the lock too", async () => {
    t = await makeTestApp({ LOGIN_MAX_FAILURES: "3" });
    const alice = await enrolled(t, "alice");
    const regenerate = () => t.http().post("/api/mfa/recovery-codes").set("Cookie", alice.cookie).send({ code: "000000" });
    const disable = () => t.http().delete("/api/mfa/totp").set("Cookie", alice.cookie).send({ currentPassword: PASSWORD, code: "000000" });
    expectError(await regenerate(), 400, "MFA_CODE_INVALID");
    expectError(await disable(), 400, "MFA_CODE_INVALID");
    expectError(await disable(), 400, "MFA_CODE_INVALID");
    expectError(await regenerate(), 429, "RATE_LIMITED");
    expectError(await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD }), 429, "RATE_LIMITED");
  });

  it("the second step has the per-IP login limit", async () => {
    t = await makeTestApp();
    const alice = await enrolled(t, "alice");
    // The same database behind a proxy we trust, with a limit of 2; the sign-in comes from another network.
    await t.close();
    t = await makeTestApp({ RATE_LIMIT_LOGIN_PER_IP: "2", TRUST_PROXY: "true" }, { databaseUrl: t.databaseUrl });
    const from = (req: ReturnType<ReturnType<TestApp["http"]>["post"]>) => req.set("X-Forwarded-For", "203.0.113.9");
    const first = await from(t.http().post("/api/authenticate")).send({ uid: "alice", password: PASSWORD }); // 1
    expectError(first, 401, "MFA_REQUIRED");
    const challenge = challengeOf(first);
    expectError(await from(t.http().post("/api/authenticate/mfa")).set("Cookie", challenge).send({ code: "000000" }), 401, "MFA_CODE_INVALID"); // 2
    const limited = await from(t.http().post("/api/authenticate/mfa")).set("Cookie", challenge).send({ code: codeAt(t, alice.uri) });
    expectError(limited, 429, "RATE_LIMITED");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
  });
});

describe("turning it off", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("needs the password and a code; a recovery code does; it ends the other sessions and the login is one step again", async () => {
    const alice = await enrolled(t, "alice");
    const other = await loginWithCode(t, alice);
    nextStep(t);
    const disable = (body: object, cookie = alice.cookie) => t.http().delete("/api/mfa/totp").set("Cookie", cookie).send(body);

    expectError(await disable({ currentPassword: PASSWORD }), 400, "VALIDATION_FAILED");
    expectError(await disable({ currentPassword: PASSWORD, code: "000000" }), 400, "MFA_CODE_INVALID");
    const wrongPassword = await disable({ currentPassword: "not-my-password", code: alice.recoveryCodes[0] });
    expectError(wrongPassword, 400, "VALIDATION_FAILED");
    expect(wrongPassword.body.data).toEqual([{ field: "currentPassword", message: "is incorrect" }]);
    // That recovery code was checked but not spent by the refused request.
    expect((await t.http().get("/api/mfa").set("Cookie", alice.cookie)).body).toEqual({ enabled: true, recoveryCodesLeft: 10 });
    expect((await id(alice.cookie)).body.mfaEnabled).toBe(true);

    const res = await disable({ currentPassword: PASSWORD, code: alice.recoveryCodes[0] });
    expect(res.status).toBe(204);
    const renewed = sessionCookieOf(res);
    expectError(await id(alice.cookie), 401, "TOKEN_REVOKED");
    expectError(await id(other), 401, "TOKEN_REVOKED");
    expect((await id(renewed)).body.mfaEnabled).toBe(false);
    expect(await t.sql('SELECT * FROM "TotpFactor" WHERE "userId" = ?', [alice.id])).toEqual([]);
    expect(await t.sql('SELECT * FROM "RecoveryCode" WHERE "userId" = ?', [alice.id])).toEqual([]);
    expect((await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD })).status).toBe(200);

    // Again: nothing to turn off, the same answer, no session ended.
    const again = await disable({ currentPassword: PASSWORD, code: "000000" }, renewed);
    expect(again.status).toBe(204);
    expect((await id(renewed)).status).toBe(200);
  });

  it("takes the authenticator's code, and then it can be turned on again with a new secret", async () => {
    const alice = await enrolled(t, "alice");
    const res = await t.http().delete("/api/mfa/totp").set("Cookie", alice.cookie).send({ currentPassword: PASSWORD, code: codeAt(t, alice.uri) });
    expect(res.status).toBe(204);
    const cookie = sessionCookieOf(res);
    const setup = await t.http().post("/api/mfa/totp/setup").set("Cookie", cookie).send({ currentPassword: PASSWORD });
    expect(setup.status).toBe(200);
    expect(setup.body.secret).not.toBe(alice.secret);
  });

  it("ends outstanding challenges", async () => {
    const alice = await enrolled(t, "alice");
    const challenge = await firstStep(t, "alice");
    const res = await t.http().delete("/api/mfa/totp").set("Cookie", alice.cookie).send({ currentPassword: PASSWORD, code: codeAt(t, alice.uri) });
    expect(res.status).toBe(204);
    expectError(await secondStep(t, challenge, { recoveryCode: alice.recoveryCodes[0] }), 401, "MFA_CHALLENGE_INVALID");
  });
});

describe("the admin's reset", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("PUT /api/user/:uid {resetMfa:true} removes the factor and codes and ends the user's sessions and challenges", async () => {
    const alice = await enrolled(t, "alice");
    const challenge = await firstStep(t, "alice");
    const admin = await loginAs(t, "admin");
    const reset = (body: object, cookie = admin, uid = "alice") => t.http().put(`/api/user/${uid}`).set("Cookie", cookie).send(body);

    expectError(await reset({ resetMfa: false }), 400, "VALIDATION_FAILED");
    expectError(await reset({ resetMfa: true }, alice.cookie), 403, "FORBIDDEN_ROLE");
    expectError(await reset({ resetMfa: true }, admin, "nobody"), 404, "USER_NOT_FOUND");
    const own = await reset({ resetMfa: true }, admin, "admin");
    expectError(own, 400, "VALIDATION_FAILED");
    expect(own.body.data).toEqual([{ field: "resetMfa", message: expect.stringMatching(/Security page/) }]);
    expect((await id(alice.cookie)).body.mfaEnabled).toBe(true);

    const res = await reset({ resetMfa: true, name: "Alice Again" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ uid: "alice", name: "Alice Again", mfaEnabled: false });
    expectError(await id(alice.cookie), 401, "TOKEN_REVOKED");
    expectError(await secondStep(t, challenge, { code: codeAt(t, alice.uri) }), 401, "MFA_CHALLENGE_INVALID");
    expect(await t.sql('SELECT * FROM "RecoveryCode" WHERE "userId" = ?', [alice.id])).toEqual([]);
    expect((await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD })).status).toBe(200);
  });
});

it("logs the two-factor events, never a code, a secret or a challenge", async () => {
  const logs = captureLogs();
  t = await makeTestApp({}, { logger: logs.logger });
  const alice = await enrolled(t, "alice");
  const challenge = await firstStep(t, "alice");
  const wrongCode = "000000";
  await secondStep(t, challenge, { code: wrongCode });
  await secondStep(t, challenge, { recoveryCode: alice.recoveryCodes[0] });
  nextStep(t);
  const code = codeAt(t, alice.uri);
  const fresh = await t.http().post("/api/mfa/recovery-codes").set("Cookie", alice.cookie).send({ code });
  const disabled = await t.http().delete("/api/mfa/totp").set("Cookie", alice.cookie).send({ currentPassword: PASSWORD, code: fresh.body.recoveryCodes[0] });
  expect(disabled.status).toBe(204);

  const events = logs.events().map((e) => e.event).filter(Boolean);
  for (const event of ["mfa_setup_started", "mfa_enabled", "mfa_failed", "recovery_code_used", "recovery_codes_replaced", "mfa_disabled"]) expect(events).toContain(event);
  expect(logs.events()).toContainEqual(expect.objectContaining({ event: "login", outcome: "second_factor_required", uid: "alice" }));
  expect(logs.events()).toContainEqual(expect.objectContaining({ event: "login", outcome: "success", uid: "alice", via: "recovery_code" }));
  const text = logs.lines();
  for (const secret of [alice.secret, code, wrongCode, challenge.split("=")[1], ...alice.recoveryCodes, ...fresh.body.recoveryCodes]) expect(text).not.toContain(secret);
  expect(text).not.toContain(PASSWORD);
});

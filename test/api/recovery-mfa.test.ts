// A password reset of an account with two-factor on (docs/recovery.md › Two-factor during a reset): the link alone
// is not enough; a TOTP code (computed with otpauth on the app's clock) or a recovery code is; wrong codes count
// toward the account lock like login codes and against the link, whose fifth wrong code spends it.
import * as OTPAuth from "otpauth";
import { expectError, loginAs, type TestApp } from "./helpers";
import { accountWithEmail, makeMailApp, NEW_PASSWORD, PASSWORD, pastMailCooldown, resetTokenFor, type MailApp } from "./support/recovery";

let app: MailApp;
let t: TestApp;
afterEach(() => app.close());

async function open(env: Record<string, string> = {}) {
  app = await makeMailApp(env);
  t = app.t;
}

/** An account with an address and two-factor on, through the two-factor routes; its TOTP and recovery codes. */
async function twoFactorAccount(uid = "alice") {
  const user = await accountWithEmail(t, uid, `${uid}@example.com`);
  const cookie = await loginAs(t, uid, PASSWORD);
  const setup = await t.http().post("/api/mfa/totp/setup").set("Cookie", cookie).send({ currentPassword: PASSWORD });
  expect(setup.status).toBe(200);
  const totp = OTPAuth.URI.parse(setup.body.otpauthUri) as OTPAuth.TOTP;
  const confirmed = await t.http().post("/api/mfa/totp/confirm").set("Cookie", cookie).send({ code: totp.generate({ timestamp: t.app.services.now() }) });
  expect(confirmed.status).toBe(200);
  // The confirming code claimed its step: the codes used below are of later steps.
  t.advance(30_000);
  return { user, totp, recoveryCodes: confirmed.body.recoveryCodes as string[], code: () => totp.generate({ timestamp: t.app.services.now() }) };
}

const reset = (body: object) => t.http().post("/api/password/reset").send(body);
const passwordIs = async (userId: number, password: string) => t.app.services.users.verifyPassword(userId, password);

it("asks for a code (401 MFA_REQUIRED), then takes the current TOTP code", async () => {
  await open();
  const alice = await twoFactorAccount();
  const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
  const asked = await reset({ token, password: NEW_PASSWORD });
  expectError(asked, 401, "MFA_REQUIRED");
  expect(asked.body.data).toEqual({ methods: ["totp", "recovery_code"] });
  expectError(await reset({ token, password: NEW_PASSWORD, code: "  " }), 401, "MFA_REQUIRED");
  expect((await reset({ token, password: NEW_PASSWORD, code: alice.code() })).status).toBe(200);
  expect(await passwordIs(alice.user.id, NEW_PASSWORD)).toBe(true);
});

it("takes a recovery code, once", async () => {
  await open();
  const alice = await twoFactorAccount();
  const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
  const [recoveryCode] = alice.recoveryCodes;
  expect((await reset({ token, password: NEW_PASSWORD, code: recoveryCode })).status).toBe(200);
  await pastMailCooldown(t, alice.user.id);
  const again = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
  expectError(await reset({ token: again, password: "another-pass-88", code: recoveryCode }), 401, "MFA_REQUIRED");
  expect(await passwordIs(alice.user.id, NEW_PASSWORD)).toBe(true);
});

it("refuses a TOTP code already used (its step is claimed)", async () => {
  await open();
  const alice = await twoFactorAccount();
  const code = alice.code();
  const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
  expect((await reset({ token, password: NEW_PASSWORD, code })).status).toBe(200);
  await pastMailCooldown(t, alice.user.id);
  const again = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
  expectError(await reset({ token: again, password: "another-pass-88", code }), 401, "MFA_REQUIRED");
});

it("checks the password rule before the code: a weak password costs no code and keeps the link", async () => {
  await open();
  const alice = await twoFactorAccount();
  const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
  const code = alice.code();
  expectError(await reset({ token, password: "alice-alice", code }), 400, "VALIDATION_FAILED");
  // The same code still works: its step was not claimed by the refused attempt.
  expect((await reset({ token, password: NEW_PASSWORD, code })).status).toBe(200);
});

it("counts wrong codes against the link: the fifth spends it (400 RESET_TOKEN_INVALID, too_many_codes)", async () => {
  await open();
  const alice = await twoFactorAccount();
  const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
  for (let i = 1; i <= 4; i++) {
    const wrong = await reset({ token, password: NEW_PASSWORD, code: "000000" });
    expectError(wrong, 401, "MFA_REQUIRED");
    expect(wrong.body.message).toMatch(/not right/);
  }
  const fifth = await reset({ token, password: NEW_PASSWORD, code: "000000" });
  expectError(fifth, 400, "RESET_TOKEN_INVALID");
  expect(fifth.body.data).toEqual({ reason: "too_many_codes" });
  expectError(await reset({ token, password: NEW_PASSWORD, code: alice.code() }), 400, "RESET_TOKEN_INVALID");
  expect(await passwordIs(alice.user.id, PASSWORD)).toBe(true);
});

it("counts wrong codes toward the account lock like login codes (429 once locked, even with a fresh link)", async () => {
  await open({ LOGIN_MAX_FAILURES: "3", LOGIN_LOCK_SECONDS: "600" });
  const alice = await twoFactorAccount();
  const token = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
  for (let i = 0; i < 3; i++) expectError(await reset({ token, password: NEW_PASSWORD, code: "000000" }), 401, "MFA_REQUIRED");
  expectError(await reset({ token, password: NEW_PASSWORD, code: alice.code() }), 429, "RATE_LIMITED");
  expectError(await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD }), 429, "RATE_LIMITED");
  await pastMailCooldown(t, alice.user.id);
  const fresh = await resetTokenFor(app, { uid: "alice" }, "alice@example.com");
  expectError(await reset({ token: fresh, password: NEW_PASSWORD, code: alice.code() }), 429, "RATE_LIMITED");
  expect(await passwordIs(alice.user.id, PASSWORD)).toBe(true);
});

it("lets an account without two-factor reset without a code (a code given is ignored)", async () => {
  await open();
  const carol = await accountWithEmail(t, "carol", "carol@example.com");
  const token = await resetTokenFor(app, { uid: "carol" }, "carol@example.com");
  expect((await reset({ token, password: NEW_PASSWORD, code: "000000" })).status).toBe(200);
  expect(await passwordIs(carol.id, NEW_PASSWORD)).toBe(true);
});

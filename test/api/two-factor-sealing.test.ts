// Two-factor secrets at rest (docs/two-factor.md › Secrets at rest): what a dump of the database shows, key
// rotation through DATA_ENCRYPTION_PREVIOUS_KEYS, and production without DATA_ENCRYPTION_KEY.
import crypto from "node:crypto";
import fs from "node:fs";
import * as OTPAuth from "otpauth";
import { ConfigError } from "../../backend/config";
import { createSealer } from "../../backend/mfa/sealing";
import { refuseUnreadableFactors } from "../../backend/mfa/mfa.startup";
import { dialect, expectError, makeTestApp, TEST_DATA_KEY, type TestApp } from "./helpers";
import { account, codeAt, enrolled, firstStep, login, nextStep, PASSWORD, secondStep } from "./support/two-factor";

const opened: TestApp[] = [];
async function open(env: Record<string, string> = {}, databaseUrl?: string): Promise<TestApp> {
  const t = await makeTestApp(env, databaseUrl ? { databaseUrl } : {});
  opened.push(t);
  return t;
}
afterEach(async () => {
  for (const t of opened.splice(0)) await t.close();
});

const NEW_KEY = crypto.randomBytes(32).toString("base64");
const kidOf = (base64: string) => crypto.createHash("sha256").update(Buffer.from(base64, "base64")).digest("base64url").slice(0, 12);
const SEALED = /^v1\.[\w-]{12}\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/;

type FactorRow = { userId: number; secretSealed: string; recoveryKeySealed: string };
const factorOf = async (t: TestApp, userId: number) => (await t.sql<FactorRow>('SELECT * FROM "TotpFactor" WHERE "userId" = ?', [userId]))[0];

/** The same database opened by a new process: its clock continues from where `t`'s was. */
async function reopen(t: TestApp, env: Record<string, string>): Promise<TestApp> {
  const ahead = t.app.services.now() - Date.now();
  const next = await open(env, t.databaseUrl);
  next.advance(ahead);
  nextStep(next);
  return next;
}

it("a dump of the database shows neither the secret nor a recovery code, and does not open without the key", async () => {
  const t = await open();
  const alice = await enrolled(t, "alice");
  const secret = Buffer.from(OTPAuth.Secret.fromBase32(alice.secret).bytes);
  const forms = [alice.secret, alice.secret.toLowerCase(), secret.toString("hex"), secret.toString("base64"), secret.toString("base64url")];
  const codes = alice.recoveryCodes.flatMap((code) => [code, code.replace("-", "")]);
  // Not even a plain hash of a code: 50 bits would be searched through quickly.
  const plainHashes = alice.recoveryCodes.map((code) => crypto.createHash("sha256").update(code.replace("-", "")).digest("hex"));

  const factors = await t.sql<FactorRow>('SELECT * FROM "TotpFactor"');
  const recovery = await t.sql('SELECT * FROM "RecoveryCode"');
  expect(recovery).toHaveLength(10);
  const dump = JSON.stringify([factors, recovery, await t.sql('SELECT * FROM "OneTimeToken"')]);
  for (const text of [...forms, ...codes, ...plainHashes]) expect(dump).not.toContain(text);
  expect(factors[0].secretSealed).toMatch(SEALED);
  expect(factors[0].recoveryKeySealed).toMatch(SEALED);
  expect(factors[0].secretSealed.split(".")[1]).toBe(kidOf(TEST_DATA_KEY));

  if (dialect === "sqlite") {
    // The file itself, and its write-ahead log: neither the secret's bytes nor its text.
    const files = [t.databaseFile, `${t.databaseFile}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
    for (const bytes of files) {
      expect(bytes.indexOf(secret)).toBe(-1);
      for (const text of [...forms, ...codes]) expect(bytes.indexOf(Buffer.from(text))).toBe(-1);
    }
  }

  // Whoever has the dump but not the key: another key is refused, even one passed off under the right key id.
  const other = createSealer({ current: { id: kidOf(NEW_KEY), key: Buffer.from(NEW_KEY, "base64") }, previous: [] });
  expect(() => other.open(factors[0].secretSealed, `totp:${alice.id}`)).toThrow(/neither DATA_ENCRYPTION_KEY/);
  const disguised = factors[0].secretSealed.replace(/^v1\.[\w-]{12}\./, `v1.${kidOf(NEW_KEY)}.`);
  expect(() => other.open(disguised, `totp:${alice.id}`)).toThrow(/does not open/);
  // With the key, it opens to the secret, for this user only.
  const right = createSealer(t.config.dataKeys!);
  expect(right.open(factors[0].secretSealed, `totp:${alice.id}`).plaintext.equals(secret)).toBe(true);
  expect(() => right.open(factors[0].secretSealed, `totp:${alice.id + 1}`)).toThrow(/does not open/);
});

it("a secret copied into another account's row does not open there (the user id is authenticated)", async () => {
  const t = await open();
  const alice = await enrolled(t, "alice");
  const bob = await enrolled(t, "bob");
  const stolen = await factorOf(t, alice.id);
  await t.app.services.db.prisma.totpFactor.update({ where: { userId: bob.id }, data: { secretSealed: stolen.secretSealed, recoveryKeySealed: stolen.recoveryKeySealed } });
  const res = await secondStep(t, await firstStep(t, "bob"), { code: codeAt(t, alice.uri) });
  expectError(res, 503, "MFA_UNAVAILABLE");
  expect(res.body.message).toMatch(/DATA_ENCRYPTION_KEY/);
});

it("rotation: a previous key still opens, the secret is sealed again with the current key when used, and a lost key is named at start", async () => {
  const first = await open();
  const alice = await enrolled(first, "alice");
  const bob = await enrolled(first, "bob");
  const oldKid = kidOf(TEST_DATA_KEY);
  expect((await factorOf(first, bob.id)).secretSealed.split(".")[1]).toBe(oldKid);

  // New key, old one kept as previous: both accounts can still be checked; the start-up check passes.
  const rotated = await reopen(first, { DATA_ENCRYPTION_KEY: NEW_KEY, DATA_ENCRYPTION_PREVIOUS_KEYS: TEST_DATA_KEY });
  await expect(refuseUnreadableFactors(rotated.config, rotated.db)).resolves.toBeUndefined();
  expect((await secondStep(rotated, await firstStep(rotated, "alice"), { code: codeAt(rotated, alice.uri) })).status).toBe(200);
  const resealed = await factorOf(rotated, alice.id);
  expect(resealed.secretSealed.split(".")[1]).toBe(kidOf(NEW_KEY));
  expect(resealed.recoveryKeySealed.split(".")[1]).toBe(kidOf(NEW_KEY));
  expect((await factorOf(rotated, bob.id)).secretSealed.split(".")[1]).toBe(oldKid); // not used yet
  // The recovery codes made under the old key still work: the key sealed, not the codes, changed.
  expect((await secondStep(rotated, await firstStep(rotated, "alice"), { recoveryCode: alice.recoveryCodes[0] })).status).toBe(200);

  // The old key dropped: alice (re-sealed) signs in; bob's secret cannot be opened, and a start is refused.
  const dropped = await reopen(rotated, { DATA_ENCRYPTION_KEY: NEW_KEY });
  const refusal = refuseUnreadableFactors(dropped.config, dropped.db);
  await expect(refusal).rejects.toBeInstanceOf(ConfigError);
  await expect(refusal).rejects.toThrow(/DATA_ENCRYPTION_PREVIOUS_KEYS: 1 account has two-factor authentication on/);
  expect((await secondStep(dropped, await firstStep(dropped, "alice"), { code: codeAt(dropped, alice.uri) })).status).toBe(200);
  const res = await secondStep(dropped, await firstStep(dropped, "bob"), { code: codeAt(dropped, bob.uri) });
  expectError(res, 503, "MFA_UNAVAILABLE");
});

describe("production without DATA_ENCRYPTION_KEY", () => {
  const production = { NODE_ENV: "production", DATA_ENCRYPTION_KEY: "", BCRYPT_ROUNDS: "10", JWT_SECRET: crypto.randomBytes(48).toString("base64url") };

  it("starts, but enrolment answers 503 MFA_UNAVAILABLE naming the variable", async () => {
    const t = await open(production);
    expect(t.config.dataKeys).toBeNull();
    await account(t, "alice");
    const cookie = await login(t, "alice");
    const res = await t.http().post("/api/mfa/totp/setup").set("Cookie", cookie).send({ currentPassword: PASSWORD });
    expectError(res, 503, "MFA_UNAVAILABLE");
    expect(res.body.message).toMatch(/DATA_ENCRYPTION_KEY/);
    expect(await t.sql('SELECT * FROM "TotpFactor"')).toEqual([]);
    expect((await t.http().get("/api/mfa").set("Cookie", cookie)).body).toEqual({ enabled: false, recoveryCodesLeft: 0 });
    await expect(refuseUnreadableFactors(t.config, t.db)).resolves.toBeUndefined();
  });

  it("refuses to start once an account has two-factor on (a pending setup does not count)", async () => {
    const withKey = await open();
    const alice = await enrolled(withKey, "alice");
    const { id: bobId } = await account(withKey, "bob");
    await withKey.app.services.mfa.beginEnrolment({ id: bobId, uid: "bob" });
    const t = await reopen(withKey, production);
    const refusal = refuseUnreadableFactors(t.config, t.db);
    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    await expect(refusal).rejects.toThrow(/DATA_ENCRYPTION_KEY: 1 account has two-factor authentication on/);
    // Were it running anyway, the codes could not be checked: 503, never a sign-in without the second factor.
    expectError(await secondStep(t, await firstStep(t, "alice"), { code: codeAt(t, alice.uri) }), 503, "MFA_UNAVAILABLE");

    await withKey.app.services.mfa.removeFactor(alice.id);
    await expect(refuseUnreadableFactors(t.config, t.db)).resolves.toBeUndefined();
  });
});

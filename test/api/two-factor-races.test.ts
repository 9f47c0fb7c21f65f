// Two-factor under parallel use (docs/two-factor.md › Codes): one TOTP step, one recovery code, one challenge
// or one enrolment used N times at once — through two app instances on one database, as two replicas — gives
// exactly one success. The services' checks are raced too, without the account lock in front of them.
import { expectError, makeTestApp, type TestApp } from "./helpers";
import { account, codeAt, enrolled, firstStep, login, nextStep, PASSWORD, secondStep } from "./support/two-factor";

const N = 8;
let a: TestApp;
let b: TestApp;
beforeEach(async () => {
  a = await makeTestApp();
  b = await makeTestApp({}, { databaseUrl: a.databaseUrl });
});
afterEach(async () => {
  await a.close();
  await b.close();
});

/** b's clock joins a's (t.advance moves only its own app). */
function syncClocks() {
  b.advance(a.app.services.now() - b.app.services.now());
}

const replica = (i: number) => (i % 2 === 0 ? a : b);
const statuses = (results: Array<{ status: number }>) => results.map((r) => r.status).sort();

it("one TOTP code sent to N challenges at once, on two replicas: exactly one sign-in", async () => {
  const alice = await enrolled(a, "alice");
  syncClocks();
  const challenges = await Promise.all(Array.from({ length: N }, (_, i) => firstStep(replica(i), "alice")));
  const code = codeAt(a, alice.uri);
  const results = await Promise.all(challenges.map((challenge, i) => secondStep(replica(i), challenge, { code })));
  expect(statuses(results)).toEqual([200, ...Array(N - 1).fill(401)]);
  for (const res of results.filter((r) => r.status !== 200)) expectError(res, 401, "MFA_CODE_INVALID");
});

it("one recovery code sent to N challenges at once, on two replicas: exactly one sign-in, and it is spent", async () => {
  const alice = await enrolled(a, "alice");
  syncClocks();
  const challenges = await Promise.all(Array.from({ length: N }, (_, i) => firstStep(replica(i), "alice")));
  const recoveryCode = alice.recoveryCodes[3];
  const results = await Promise.all(challenges.map((challenge, i) => secondStep(replica(i), challenge, { recoveryCode })));
  expect(statuses(results)).toEqual([200, ...Array(N - 1).fill(401)]);
  const used = await a.sql<{ n: number }>('SELECT CAST(count(*) AS INTEGER) AS n FROM "RecoveryCode" WHERE "usedAt" IS NOT NULL');
  expect(Number(used[0].n)).toBe(1);
});

it("one challenge answered at once with a code and recovery codes: exactly one sign-in, and no code spent for nothing on one replica", async () => {
  const alice = await enrolled(a, "alice");
  const challenge = await firstStep(a, "alice");
  const bodies = [{ code: codeAt(a, alice.uri) }, ...alice.recoveryCodes.slice(0, 3).map((recoveryCode) => ({ recoveryCode }))];
  const results = await Promise.all(bodies.map((body) => secondStep(a, challenge, body)));
  expect(statuses(results)).toEqual([200, 401, 401, 401]);
  for (const res of results.filter((r) => r.status !== 200)) expectError(res, 401, "MFA_CHALLENGE_INVALID");
  // The account's checks run one at a time: the losers found the challenge spent before touching a code.
  const { recoveryCodesLeft } = (await a.http().get("/api/mfa").set("Cookie", alice.cookie)).body;
  expect(recoveryCodesLeft).toBeGreaterThanOrEqual(9);
});

it("the services' own checks, raced without the lock: one TOTP step and one recovery code each succeed once", async () => {
  const alice = await enrolled(a, "alice");
  syncClocks();
  const code = codeAt(a, alice.uri);
  const totp = await Promise.all(Array.from({ length: N }, (_, i) => replica(i).app.services.mfa.verifySecondFactor(alice.id, { code })));
  expect(totp.filter((r) => r === "totp")).toHaveLength(1);
  expect(totp.filter((r) => r === null)).toHaveLength(N - 1);
  const recoveryCode = alice.recoveryCodes[0];
  const spent = await Promise.all(Array.from({ length: N }, (_, i) => replica(i).app.services.mfa.verifySecondFactor(alice.id, { recoveryCode })));
  expect(spent.filter((r) => r === "recovery_code")).toHaveLength(1);
  expect(spent.filter((r) => r === null)).toHaveLength(N - 1);
});

it("one enrolment confirmed N times at once: on once, with one set of ten recovery codes", async () => {
  const { id } = await account(a, "alice");
  const cookie = await login(a, "alice");
  const setup = await a.http().post("/api/mfa/totp/setup").set("Cookie", cookie).send({ currentPassword: PASSWORD });
  nextStep(a);
  syncClocks();
  const code = codeAt(a, setup.body.otpauthUri);
  const results = await Promise.all(Array.from({ length: N }, (_, i) => replica(i).http().post("/api/mfa/totp/confirm").set("Cookie", cookie).send({ code })));
  expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  for (const res of results.filter((r) => r.status !== 200)) {
    expect([400, 409, 401]).toContain(res.status);
    expect(["MFA_CODE_INVALID", "MFA_ALREADY_ENABLED", "TOKEN_REVOKED"]).toContain(res.body.code);
  }
  const rows = await a.sql('SELECT * FROM "RecoveryCode" WHERE "userId" = ?', [id]);
  expect(rows).toHaveLength(10);
  const winner = results.find((r) => r.status === 200)!;
  expect(winner.body.recoveryCodes).toHaveLength(10);
  // The codes shown are the codes stored.
  const challenge = await firstStep(a, "alice");
  expect((await secondStep(a, challenge, { recoveryCode: winner.body.recoveryCodes[9] })).status).toBe(200);
});

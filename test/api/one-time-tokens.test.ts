// One-time tokens (backend/auth/one-time-tokens.ts), on this run's database: stored only as a hash, spent by
// exactly one of many parallel uses, dead once expired, counted attempts end them.
import { hashToken } from "../../backend/auth/one-time-tokens";
import { makeTestApp, type TestApp } from "./helpers";

let t: TestApp;
beforeEach(async () => {
  t = await makeTestApp();
});
afterEach(() => t.close());

const tokens = () => t.app.services.oneTimeTokens;

it("stores only the SHA-256 of a token, and gives its payload to exactly one of 20 parallel uses", async () => {
  const token = await tokens().issue("password_reset", { userId: 1, data: { email: "a@example.com" }, ttlSeconds: 60 });
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const rows = await t.sql<{ tokenHash: string }>(`SELECT "tokenHash" FROM "OneTimeToken"`);
  expect(rows).toEqual([{ tokenHash: hashToken(token) }]);
  expect(JSON.stringify(rows)).not.toContain(token);
  const results = await Promise.all(Array.from({ length: 20 }, () => tokens().consume(token, "password_reset")));
  const winners = results.filter((r) => r !== null);
  expect(winners).toEqual([{ userId: 1, data: { email: "a@example.com" }, attempts: 0, expiresAt: expect.any(Date) }]);
  expect(await tokens().consume(token, "password_reset")).toBeNull();
});

it("refuses a token of another purpose, an expired one, and anything that is not a token", async () => {
  const token = await tokens().issue("email_verify", { userId: 1, ttlSeconds: 60 });
  expect(await tokens().consume(token, "password_reset")).toBeNull();
  expect(await tokens().peek(token, "email_verify")).not.toBeNull();
  t.advance(61_000);
  expect(await tokens().consume(token, "email_verify")).toBeNull();
  for (const junk of [undefined, 42, "", "x".repeat(43) + "!", "short"]) expect(await tokens().consume(junk, "email_verify")).toBeNull();
  expect(await tokens().purgeExpired()).toBe(1);
});

it("ends a token after its allowed wrong attempts, also when they arrive in parallel", async () => {
  const token = await tokens().issue("mfa_challenge", { userId: 1, ttlSeconds: 60 });
  const results = await Promise.all(Array.from({ length: 8 }, () => tokens().countFailure(token, "mfa_challenge", 5)));
  expect(results.filter((r) => r === "counted")).toHaveLength(4);
  expect(await tokens().peek(token, "mfa_challenge")).toBeNull();
});

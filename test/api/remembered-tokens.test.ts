// Two performance memos sit on the authenticated path: tokens.verify remembers tokens it has verified
// (auth/tokens.ts), and the session lookup is cached until the database changes (on SQLite every commit to the file, or
// on PostgreSQL the version in Redis that every write replaces: auth/session-store.*.ts). These
// tests prove neither changes anything a session can observe: every token below is used first, so both
// remember it, and is then logged out, revoked, demoted, deleted or expired — and refused at once (docs/api.md › Tokens),
// whichever connection or process made the change.
import { execFileSync } from "node:child_process";
import jwt from "jsonwebtoken";
import { dialect, expectError, loginAs, makeTestApp, signup, tokenOf, type TestApp } from "./helpers";

let t: TestApp;
beforeEach(async () => {
  t = await makeTestApp();
});
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

/** Counts the session lookups that reach the database (the statement that reads the revocation list). */
function countSessionReads(app: TestApp): () => number {
  if (app.db.kind === "sqlite") {
    const statementProto = Object.getPrototypeOf(app.db.raw.prepare("SELECT 1"));
    const get = jest.spyOn(statementProto, "get");
    return () => get.mock.contexts.filter((statement) => /RevokedToken/.test((statement as { source: string }).source)).length;
  }
  const query = jest.spyOn(app.db.pool, "query");
  return () => query.mock.calls.filter(([config]) => /RevokedToken/.test(typeof config === "string" ? config : (config as { text: string }).text)).length;
}

/** Runs SQL on the database file from a separate OS process, as an operator's sqlite3 shell would. */
function sqlFromAnotherProcess(databaseFile: string, sql: string): void {
  const script = `const Database = require("better-sqlite3"); new Database(process.argv[1]).exec(process.argv[2]);`;
  execFileSync(process.execPath, ["-e", script, databaseFile, sql], { cwd: process.cwd() });
}

const idAs = (app: TestApp, cookie: string) => app.http().get("/api/id").set("Cookie", cookie);

/** Logs in and uses the session once, so its token is in the memo. */
async function rememberedSession(uid: string): Promise<string> {
  const cookie = await loginAs(t, uid);
  expect((await idAs(t, cookie)).status).toBe(200);
  return cookie;
}

describe("remembered tokens and sessions", () => {
  it("checks a token's signature once, then answers from memory", async () => {
    const cookie = await loginAs(t, "user");
    const verify = jest.spyOn(jwt, "verify");
    for (let i = 0; i < 3; i++) expect((await idAs(t, cookie)).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it("reads a session from the database once, then again only after the database changed", async () => {
    const cookie = await loginAs(t, "user");
    const reads = countSessionReads(t);
    for (let i = 0; i < 3; i++) expect((await idAs(t, cookie)).status).toBe(200);
    expect(reads()).toBe(1);
    await signup(t, "someone-else"); // any commit, even one about another user, empties the cache
    expect((await idAs(t, cookie)).status).toBe(200);
    expect(reads()).toBe(2);
  });


  it("refuses a logged-out token at once", async () => {
    const cookie = await rememberedSession("user");
    expect((await t.http().delete("/api/authenticate").set("Cookie", cookie)).status).toBe(200);
    expectError(await idAs(t, cookie), 401, "TOKEN_REVOKED");
  });

  it("refuses every session after logout-all at once", async () => {
    const first = await rememberedSession("user");
    const second = await rememberedSession("user");
    expect((await t.http().delete("/api/authenticate?all=true").set("Cookie", first)).status).toBe(200);
    expectError(await idAs(t, first), 401, "TOKEN_REVOKED");
    expectError(await idAs(t, second), 401, "TOKEN_REVOKED");
  });

  it("refuses the session of a demoted admin at once", async () => {
    const root = await loginAs(t, "admin");
    expect((await t.http().put("/api/user/user").set("Cookie", root).send({ role: "Admin" })).status).toBe(200);
    const promoted = await rememberedSession("user");
    expect((await t.http().get("/api/user").set("Cookie", promoted)).status).toBe(200);
    expect((await t.http().put("/api/user/user").set("Cookie", root).send({ role: "User" })).status).toBe(200);
    expectError(await t.http().get("/api/user").set("Cookie", promoted), 401, "TOKEN_REVOKED");
    expectError(await idAs(t, promoted), 401, "TOKEN_REVOKED");
  });

  it("refuses the session of a deleted user at once", async () => {
    const cookie = await rememberedSession("user");
    const admin = await loginAs(t, "admin");
    expect((await t.http().delete("/api/user/user").set("Cookie", admin)).status).toBe(204);
    expectError(await idAs(t, cookie), 401, "TOKEN_INVALID");
  });

  it("sees a logout made by another process on the same database at once", async () => {
    const other = await makeTestApp({}, { databaseUrl: t.databaseUrl });
    try {
      const cookie = await rememberedSession("user");
      expect((await idAs(other, cookie)).status).toBe(200);
      expect((await other.http().delete("/api/authenticate").set("Cookie", cookie)).status).toBe(200);
      expectError(await idAs(t, cookie), 401, "TOKEN_REVOKED");
    } finally {
      await other.close();
    }
  });

  it("still expires a remembered token", async () => {
    const cookie = await rememberedSession("user");
    t.advance(3601 * 1000);
    expectError(await idAs(t, cookie), 401, "TOKEN_EXPIRED");
  });

  it("does not let a tampered copy of a remembered token through", async () => {
    const cookie = await rememberedSession("user");
    const [header, payload, signature] = tokenOf(cookie).split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: "1" })).toString("base64url")}.${signature}`;
    expectError(await idAs(t, `__Host-jwt_token=${tampered}`), 401, "TOKEN_INVALID");
  });
});

// Every commit to the SQLite file moves the session cache's commit watch, by anyone: even changes made by hand are seen.
// (On PostgreSQL, changes must go through the API or `npm run user`, which replace the shared version.)
if (dialect === "sqlite") {
  describe("changes made outside the API (SQLite)", () => {
    const raw = () => (t.db.kind === "sqlite" ? t.db.raw : (null as never));

    it("keeps the cache's connection read-only, so no write can go unnoticed", () => {
      expect(() => raw().prepare("UPDATE User SET role = 'Admin'").run()).toThrow(/readonly/i);
    });

    it("sees a role changed by hand in another process at once, token version untouched", async () => {
      const admin = await rememberedSession("admin");
      expect((await t.http().get("/api/user").set("Cookie", admin)).body.length).toBeGreaterThan(1);
      sqlFromAnotherProcess(t.databaseFile, "UPDATE User SET role = 'User' WHERE uidKey = 'admin'");
      const res = await idAs(t, admin);
      expect(res.status).toBe(200);
      expect(res.body.role).toBe("User");
      expectError(await t.http().delete("/api/user/user").set("Cookie", admin), 403, "FORBIDDEN_ROLE");
    });

    it("sees a user deleted by hand in another process at once", async () => {
      const cookie = await rememberedSession("user");
      sqlFromAnotherProcess(t.databaseFile, "DELETE FROM User WHERE uidKey = 'user'");
      expectError(await idAs(t, cookie), 401, "TOKEN_INVALID");
    });
  });
}

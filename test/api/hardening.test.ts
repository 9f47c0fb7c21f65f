// Findings of the security review (ASVS 5.0 L2, RFC 8725), one regression test or more each: identity changes
// need the current password and cannot reset the lock, guessable passwords are refused everywhere, hashes
// follow BCRYPT_ROUNDS, logs carry the client IP but never a mistyped password, HSTS over HTTPS, malformed
// HTTP gets the JSON error body, the database files are private, and the last admin cannot be deleted by a race.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pino from "pino";
import { startApi } from "../../backend/server";
import { costOf } from "../../backend/auth/passwords";
import { captureLogs, dialect, expectError, freshDatabaseUrl, loginAs, makeTestApp, sessionCookieOf, signup, tempDir, testConfig, userCount, type TestApp } from "./helpers";

let t: TestApp;
afterEach(async () => {
  jest.restoreAllMocks();
  await t?.close();
});

const put = (cookie: string, body: object, ip?: string, path = "/api/user") => {
  const req = t.http().put(path).set("Cookie", cookie);
  if (ip) req.set("X-Forwarded-For", ip);
  return req.send(body);
};
const storedHash = async (uid: string) => (await t.sql<{ passwordHash: string }>(`SELECT "passwordHash" FROM "User" WHERE "uidKey" = ?`, [uid.toLowerCase()]))[0].passwordHash;

describe("re-authentication and the account lock", () => {
  it("keeps a locked account locked after an attempt to rename it (the lock follows the user id)", async () => {
    t = await makeTestApp({ LOGIN_MAX_FAILURES: "3", LOGIN_LOCK_SECONDS: "60" });
    const cookie = await loginAs(t, "user");
    for (let i = 0; i < 3; i++) expectError(await put(cookie, { password: "velvet-thunder-88", currentPassword: `guess-${i}` }), 400, "VALIDATION_FAILED");
    // Renaming needs the current password too, so it is refused while locked, and without one it is a 400.
    expectError(await put(cookie, { uid: "fresh-name" }), 400, "VALIDATION_FAILED");
    expectError(await put(cookie, { uid: "fresh-name", currentPassword: "guess-3" }), 429, "RATE_LIMITED");
    expect((await t.http().get("/api/id").set("Cookie", cookie)).body.uid).toBe("user");
    expectError(await put(cookie, { password: "velvet-thunder-88", currentPassword: "guess-4" }), 429, "RATE_LIMITED");
    expectError(await t.http().post("/api/authenticate").send({ uid: "user", password: "password" }), 429, "RATE_LIMITED");
  });

  it("does not let a rename reset the lock of failed logins", async () => {
    t = await makeTestApp({ LOGIN_MAX_FAILURES: "3", LOGIN_LOCK_SECONDS: "60" });
    const cookie = await loginAs(t, "user");
    expect((await put(cookie, { uid: "renamed-user", currentPassword: "password" })).status).toBe(200);
    for (let i = 0; i < 3; i++) expectError(await t.http().post("/api/authenticate").send({ uid: "renamed-user", password: `nope-${i}` }), 401, "INVALID_CREDENTIALS");
    // The right password cannot rename the account away from its lock, nor log in while it lasts.
    expect((await put(cookie, { uid: "user", currentPassword: "password" })).status).toBe(429);
    expectError(await t.http().post("/api/authenticate").send({ uid: "renamed-user", password: "password" }), 429, "RATE_LIMITED");
  });

  it("needs the current password to change the uid or the e-mail address, and says which field", async () => {
    t = await makeTestApp();
    const cookie = await loginAs(t, "user");
    const uid = await put(cookie, { uid: "taken-over" });
    expectError(uid, 400, "VALIDATION_FAILED");
    expect(uid.body.data).toEqual([{ field: "currentPassword", message: "is required to change the GitHub ID" }]);
    const email = await put(cookie, { email: "attacker@example.com" });
    expect(email.body.data).toEqual([{ field: "currentPassword", message: "is required to change the e-mail address" }]);
    expectError(await put(cookie, { email: "attacker@example.com", currentPassword: "not-it" }), 400, "VALIDATION_FAILED");
    expect((await t.http().get("/api/id").set("Cookie", cookie)).body).toMatchObject({ uid: "user", email: null });
    // Unchanged values and the name need nothing.
    expect((await put(cookie, { uid: "user", name: "Still Me" })).status).toBe(200);
    expect((await put(cookie, { email: "me@example.com", currentPassword: "password" })).body.email).toBe("me@example.com");
  });

  it("counts password checks of PUT /api/user and PUT /api/user/:uid against the login's per-IP limit", async () => {
    t = await makeTestApp({ RATE_LIMIT_LOGIN_PER_IP: "3", TRUST_PROXY: "true" });
    const user = await loginAs(t, "user");
    const admin = await loginAs(t, "admin");
    expectError(await t.http().post("/api/authenticate").set("X-Forwarded-For", "10.9.9.9").send({ uid: "user", password: "nope" }), 401, "INVALID_CREDENTIALS");
    expectError(await put(user, { password: "velvet-thunder-88", currentPassword: "nope" }, "10.9.9.9"), 400, "VALIDATION_FAILED");
    expectError(await put(admin, { password: "velvet-thunder-88", currentPassword: "nope" }, "10.9.9.9", "/api/user/admin"), 400, "VALIDATION_FAILED");
    expectError(await put(user, { password: "velvet-thunder-88", currentPassword: "password" }, "10.9.9.9"), 429, "RATE_LIMITED");
    expect((await put(user, { password: "velvet-thunder-88", currentPassword: "password" }, "10.9.9.10")).status).toBe(200);
  });

  it("holds an admin changing their own password through PUT /api/user/:uid to PUT /api/user's rules", async () => {
    t = await makeTestApp();
    const admin = await loginAs(t, "admin");
    const missing = await put(admin, { password: "velvet-thunder-88" }, undefined, "/api/user/ADMIN");
    expectError(missing, 400, "VALIDATION_FAILED");
    expect(missing.body.data).toEqual([{ field: "currentPassword", message: "is required to change the password" }]);
    expectError(await put(admin, { password: "velvet-thunder-88", currentPassword: "wrong" }, undefined, "/api/user/admin"), 400, "VALIDATION_FAILED");
    expect((await t.http().post("/api/authenticate").send({ uid: "admin", password: "password" })).status).toBe(200);
    const changed = await put(admin, { password: "velvet-thunder-88", currentPassword: "password" }, undefined, "/api/user/admin");
    expect(changed.status).toBe(200);
    // Like a self-change: this session continues on a re-issued cookie.
    const reissued = sessionCookieOf(changed);
    expect((await t.http().get("/api/id").set("Cookie", reissued)).status).toBe(200);
    expect((await t.http().post("/api/authenticate").send({ uid: "admin", password: "velvet-thunder-88" })).status).toBe(200);
    // Another user's password is an admin reset: no current password needed.
    expect((await put(reissued, { password: "copper-meadow-19" }, undefined, "/api/user/user")).status).toBe(200);
  });
});

describe("the password rule", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it.each(["password", "12345678", "aaaaaaaa", "qwertyuiop", "iloveyou1"])("refuses the common password %j at signup with the reason", async (password) => {
    const res = await t.http().post("/api/user").send({ uid: "newcomer", name: "New Comer", password });
    expectError(res, 400, "VALIDATION_FAILED");
    expect(res.body.data).toEqual([{ field: "password", message: expect.stringMatching(/used password|easy to guess|commonly used/) }]);
    expect(res.body.message).toMatch(/^Some fields are invalid: password /);
    expect(await userCount(t, `"uidKey" = 'newcomer'`)).toBe(0);
  });

  it("refuses a password that is or contains the uid, in any case", async () => {
    for (const password of ["Mallory-Pass", "xMALLORY-2024-x"]) {
      const res = await t.http().post("/api/user").send({ uid: "mallory", name: "Mallory", password });
      expect(res.body.data).toEqual([{ field: "password", message: "must not contain your GitHub ID" }]);
    }
  });

  it("applies the same rule to a self-change (against the old and the new uid) and an admin reset", async () => {
    const user = await loginAs(t, "user");
    const self = await put(user, { password: "12345678", currentPassword: "password" });
    expect(self.body.data).toEqual([{ field: "password", message: "is one of the most used passwords" }]);
    const renamed = await put(user, { uid: "zanzibar", password: "zanzibar-harbor-7", currentPassword: "password" });
    expect(renamed.body.data).toEqual([{ field: "password", message: "must not contain your GitHub ID" }]);
    const admin = await loginAs(t, "admin");
    const reset = await put(admin, { password: "aaaaaaaa" }, undefined, "/api/user/user");
    expectError(reset, 400, "VALIDATION_FAILED");
    expect(reset.body.data[0].field).toBe("password");
    expect((await t.http().post("/api/authenticate").send({ uid: "user", password: "password" })).status).toBe(200);
  });
});

describe("hash cost", () => {
  it("rehashes at the configured cost on the next successful login, and not on a failed one", async () => {
    const databaseUrl = await freshDatabaseUrl();
    t = await makeTestApp({ BCRYPT_ROUNDS: "4" }, { databaseUrl });
    await signup(t, "costly", "lunar-otter-55");
    await t.close();
    t = await makeTestApp({ BCRYPT_ROUNDS: "5" }, { databaseUrl });
    expect(costOf(await storedHash("costly"))).toBe(4);
    expect((await t.http().post("/api/authenticate").send({ uid: "costly", password: "wrong-one" })).status).toBe(401);
    expect(costOf(await storedHash("costly"))).toBe(4);
    expect((await t.http().post("/api/authenticate").send({ uid: "costly", password: "lunar-otter-55" })).status).toBe(200);
    expect(costOf(await storedHash("costly"))).toBe(5);
    expect((await t.http().post("/api/authenticate").send({ uid: "costly", password: "lunar-otter-55" })).status).toBe(200);
  });
});

describe("logs", () => {
  it("carry the client IP on auth events and 429s, never a password typed into the uid field", async () => {
    const logs = captureLogs();
    t = await makeTestApp({ TRUST_PROXY: "true", LOGIN_MAX_FAILURES: "2" }, { logger: logs.logger });
    const send = (body: object) => t.http().post("/api/authenticate").set("X-Forwarded-For", "203.0.113.7").send(body);
    await send({ uid: "correct horse battery staple", password: "x" });
    await send({ uid: "user", password: "nope-1" });
    await send({ uid: "user", password: "nope-2" });
    await send({ uid: "user", password: "nope-3" });
    const events = logs.events();
    const failures = events.filter((e) => e.event === "login" && e.outcome === "failure");
    expect(failures).toHaveLength(3);
    expect(failures.every((e) => e.ip === "203.0.113.7")).toBe(true);
    expect(failures[0].uid).toBeUndefined();
    expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ event: "auth", code: "RATE_LIMITED", ip: "203.0.113.7", uid: "user" })]));
    expect(logs.lines()).not.toContain("correct horse");
  });

  it("record failed current-password checks, uid changes and e-mail changes as auth events", async () => {
    const logs = captureLogs();
    t = await makeTestApp({}, { logger: logs.logger });
    const cookie = await loginAs(t, "user");
    await put(cookie, { uid: "someone", currentPassword: "wrong-guess-1" });
    await put(cookie, { uid: "someone", email: "someone@example.com", currentPassword: "password" });
    expect(logs.events()).toEqual(expect.arrayContaining([
      expect.objectContaining({ event: "reauth", outcome: "failure", uid: "user", ip: expect.any(String) }),
      expect.objectContaining({ event: "uid_changed", uid: "someone", previousUid: "user" }),
      expect.objectContaining({ event: "email_changed", uid: "someone" }),
    ]));
    expect(logs.lines()).not.toContain("wrong-guess-1");
    expect(logs.lines()).not.toContain("someone@example.com");
  });
});

describe("headers", () => {
  it("sends Strict-Transport-Security only on responses served over HTTPS", async () => {
    t = await makeTestApp({ TRUST_PROXY: "true" });
    const viaTls = await t.http().get("/api/health").set("X-Forwarded-Proto", "https");
    expect(viaTls.headers["strict-transport-security"]).toBe("max-age=31536000");
    expect((await t.http().get("/api/health")).headers["strict-transport-security"]).toBeUndefined();
    await t.close();
    // An untrusted proxy header changes nothing.
    t = await makeTestApp();
    expect((await t.http().get("/api/health").set("X-Forwarded-Proto", "https")).headers["strict-transport-security"]).toBeUndefined();
  });
});

/** Raw bytes to the server; resolves everything it answered before closing. */
function rawHttp(url: string, bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1", () => socket.end(bytes));
    let text = "";
    socket.on("data", (d) => (text += d));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("the running server", () => {
  let api: Awaited<ReturnType<typeof startApi>> | null = null;
  afterEach(async () => {
    await api?.shutdown();
    api = null;
  });

  it("answers requests Node refuses before Koa with the JSON error body and the security headers", async () => {
    t = await makeTestApp();
    api = await startApi(testConfig({ PORT: "0" }, await freshDatabaseUrl()), pino({ level: "silent" }));
    const method = await rawHttp(api.url, "FROBNICATE /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(method).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(method).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/);
    expect(method).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/);
    expect(method).toMatch(/\r\nContent-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n/);
    expect(JSON.parse(method.slice(method.indexOf("\r\n\r\n") + 4))).toEqual({ message: "The request is not valid HTTP", data: null, error: "Bad Request", code: "MALFORMED_REQUEST" });

    const huge = await rawHttp(api.url, `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(JSON.parse(huge.slice(huge.indexOf("\r\n\r\n") + 4))).toMatchObject({ code: "HEADERS_TOO_LARGE", error: "Request Header Fields Too Large" });
    // The server is still fine.
    expect((await fetch(`${api.url}/api/health`)).status).toBe(200);
  });

  // The database files are SQLite's; PostgreSQL keeps its own data directory.
  if (dialect === "sqlite") {
    it("creates the SQLite file and its -wal/-shm owner-only (0600) in an owner-only directory (0700)", async () => {
      t = await makeTestApp();
      const dir = path.join(tempDir("files"), "data");
      const databaseFile = path.join(dir, "crossauth.db");
      api = await startApi(testConfig({ PORT: "0" }, `file:${databaseFile}`), pino({ level: "silent" }));
      expect((await fetch(`${api.url}/api/authenticate`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ uid: "user", password: "password" }) })).status).toBe(200);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      for (const file of [databaseFile, `${databaseFile}-wal`, `${databaseFile}-shm`]) expect([file, fs.statSync(file).mode & 0o777]).toEqual([file, 0o600]);
    });

    it("narrows a database file that others can read", async () => {
      t = await makeTestApp();
      const databaseFile = t.databaseFile;
      fs.chmodSync(databaseFile, 0o644);
      api = await startApi(testConfig({ PORT: "0" }, `file:${databaseFile}`), pino({ level: "silent" }));
      expect(fs.statSync(databaseFile).mode & 0o777).toBe(0o600);
    });
  }
});

describe("the last admin", () => {
  it("reads the role in the delete's own transaction, so a promotion in between cannot leave no admin", async () => {
    t = await makeTestApp();
    const admin = await loginAs(t, "admin");
    // Between the request and the delete, another connection promotes `user` and demotes `admin`: `user` is now
    // the last admin. A check that read the role before that moment would delete them.
    let swapped = false;
    const swapRoles = async () => {
      if (swapped) return;
      swapped = true;
      await t.sqlElsewhere(`UPDATE "User" SET role = 'Admin' WHERE "uidKey" = 'user'; UPDATE "User" SET role = 'User' WHERE "uidKey" = 'admin'`);
    };
    const prisma = t.app.services.db.prisma;
    const findUnique = prisma.user.findUnique.bind(prisma.user);
    jest.spyOn(prisma.user, "findUnique").mockImplementation(((args: unknown) => findUnique(args as never).then(async (found: unknown) => (await swapRoles(), found))) as never);
    const transaction = prisma.$transaction.bind(prisma) as (...a: unknown[]) => Promise<unknown>;
    jest.spyOn(prisma, "$transaction").mockImplementation((async (...args: unknown[]) => (await swapRoles(), transaction(...args))) as never);
    expectError(await t.http().delete("/api/user/user").set("Cookie", admin), 409, "LAST_ADMIN");
    expect(swapped).toBe(true);
    expect(await userCount(t, `role = 'Admin'`)).toBe(1);
  });
});

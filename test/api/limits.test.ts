// Abuse resistance and auth logging (docs/api.md › Abuse resistance, Logs and lifecycle): account lock, per-IP limits, 429 + Retry-After,
// and logs that record auth events without ever containing a password, token or secret.
import { Writable } from "node:stream";
import pino from "pino";
import { expectError, loginAs, makeTestApp, TEST_SECRET, tokenOf, type TestApp } from "./helpers";

let t: TestApp;
afterEach(() => t.close());

const login = (uid: string, password: string, ip?: string) => {
  const req = t.http().post("/api/authenticate");
  if (ip) req.set("X-Forwarded-For", ip);
  return req.send({ uid, password });
};

describe("per-account lock", () => {
  beforeEach(async () => {
    t = await makeTestApp({ LOGIN_MAX_FAILURES: "3", LOGIN_LOCK_SECONDS: "60" });
  });

  it("locks after LOGIN_MAX_FAILURES failures, refuses even the right password, with Retry-After", async () => {
    for (let i = 0; i < 3; i++) expectError(await login("user", "wrong-password"), 401, "INVALID_CREDENTIALS");
    const locked = await login("user", "password");
    expectError(locked, 429, "RATE_LIMITED");
    const wait = Number(locked.headers["retry-after"]);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(locked.body.message).toMatch(new RegExp(`Try again in ${wait} seconds`));
    expect(locked.headers["set-cookie"]).toBeUndefined();
    // Other accounts are unaffected.
    expect((await login("admin", "password")).status).toBe(200);
  });

  it("never lets parallel guesses exceed the limit before 429", async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => login("user", "wrong-password")));
    expect(results.filter((r) => r.status === 401)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(9);
  });

  it("lets parallel correct logins (several tabs) all succeed", async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => login("user", "password")));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
  });

  it("locks unknown uids exactly like real ones, so the lock reveals nothing", async () => {
    const real: number[] = [];
    const ghost: number[] = [];
    for (let i = 0; i < 5; i++) {
      real.push((await login("user", "wrong-password")).status);
      ghost.push((await login("ghost-user", "wrong-password")).status);
    }
    expect(ghost).toEqual(real);
    expect(real).toEqual([401, 401, 401, 429, 429]);
  });

  it("a success resets the failure count", async () => {
    await login("user", "wrong-password");
    await login("user", "wrong-password");
    expect((await login("user", "password")).status).toBe(200);
    await login("user", "wrong-password");
    await login("user", "wrong-password");
    expect((await login("user", "password")).status).toBe(200);
  });

  it("expires after LOGIN_LOCK_SECONDS", async () => {
    const short = await makeTestApp({ LOGIN_MAX_FAILURES: "1", LOGIN_LOCK_SECONDS: "1" });
    try {
      await short.http().post("/api/authenticate").send({ uid: "user", password: "wrong-password" });
      expect((await short.http().post("/api/authenticate").send({ uid: "user", password: "password" })).status).toBe(429);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await short.http().post("/api/authenticate").send({ uid: "user", password: "password" })).status).toBe(200);
    } finally {
      await short.close();
    }
  });

  it("counts wrong currentPassword attempts on a password change toward the same lock", async () => {
    const cookie = await loginAs(t, "user");
    for (let i = 0; i < 3; i++) {
      expect((await t.http().put("/api/user").set("Cookie", cookie).send({ password: "new-password", currentPassword: `guess-${i}` })).status).toBe(400);
    }
    expectError(await t.http().put("/api/user").set("Cookie", cookie).send({ password: "new-password", currentPassword: "password" }), 429, "RATE_LIMITED");
  });
});

describe("per-IP limits", () => {
  it("limits logins per IP per minute with 429 and Retry-After", async () => {
    t = await makeTestApp({ RATE_LIMIT_LOGIN_PER_IP: "4" });
    for (let i = 0; i < 4; i++) expect((await login(`someone${i}`, "wrong-password")).status).toBe(401);
    const res = await login("admin", "password");
    expectError(res, 429, "RATE_LIMITED");
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("limits signups per IP per minute", async () => {
    t = await makeTestApp({ RATE_LIMIT_SIGNUP_PER_IP: "2" });
    expect((await t.http().post("/api/user").send({ uid: "one1", name: "One", password: "orbit-lantern-42" })).status).toBe(201);
    expect((await t.http().post("/api/user").send({ uid: "two2", name: "Two", password: "orbit-lantern-42" })).status).toBe(201);
    expectError(await t.http().post("/api/user").send({ uid: "three", name: "Three", password: "orbit-lantern-42" }), 429, "RATE_LIMITED");
  });

  it("ignores X-Forwarded-For unless TRUST_PROXY is on", async () => {
    t = await makeTestApp({ RATE_LIMIT_LOGIN_PER_IP: "2" });
    await login("a1", "wrong-password", "10.0.0.1");
    await login("a2", "wrong-password", "10.0.0.2");
    expect((await login("a3", "wrong-password", "10.0.0.3")).status).toBe(429);
    await t.close();

    t = await makeTestApp({ RATE_LIMIT_LOGIN_PER_IP: "2", TRUST_PROXY: "true" });
    await login("a1", "wrong-password", "10.0.0.1");
    await login("a2", "wrong-password", "10.0.0.1");
    expect((await login("a3", "wrong-password", "10.0.0.1")).status).toBe(429);
    expect((await login("a4", "wrong-password", "10.0.0.2")).status).toBe(401);
  });
});

describe("logs", () => {
  it("record auth events with uid and outcome, and never a password, token or secret", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...chunk.toString().split("\n").filter(Boolean));
        done();
      },
    });
    t = await makeTestApp({ LOGIN_MAX_FAILURES: "2" }, { logger: pino({ level: "info" }, sink) });
    const cookie = await loginAs(t, "user");
    await t.http().get("/api/id").set("Cookie", cookie);
    await login("admin", "wrong-secret-guess");
    await login("admin", "wrong-secret-guess");
    await login("admin", "wrong-secret-guess");
    await t.http().get("/api/id");
    await t.http().delete("/api/authenticate").set("Cookie", cookie);
    await new Promise((r) => setImmediate(r));

    const events = lines.map((l) => JSON.parse(l));
    const requestEvents = events.filter((e) => e.event !== "seed");
    expect(requestEvents.length).toBeGreaterThan(0);
    expect(requestEvents.every((e) => typeof e.time === "number" && typeof e.reqId === "string")).toBe(true);
    expect(events).toEqual(expect.arrayContaining([
      expect.objectContaining({ event: "login", outcome: "success", uid: "user" }),
      expect.objectContaining({ event: "login", outcome: "failure", uid: "admin" }),
      expect.objectContaining({ event: "auth", outcome: "refused", code: "RATE_LIMITED", uid: "admin" }),
      expect.objectContaining({ event: "auth", outcome: "refused", code: "TOKEN_MISSING" }),
      expect.objectContaining({ event: "logout", uid: "user" }),
    ]));
    const all = lines.join("\n");
    for (const secret of ["password", "wrong-secret-guess", tokenOf(cookie), TEST_SECRET]) expect(all).not.toContain(secret);
  });
});

// The HTTP surface: CORS and the CSRF origin check, JSON-only bodies, 404/405, security headers,
// health and database failure (docs/api.md › Errors, Status codes, CORS and CSRF, Abuse resistance).
import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import Database from "better-sqlite3";
import pg from "pg";
import { ALLOWED_ORIGIN, dialect, expectError, loginAs, makeTestApp, userCount, type TestApp } from "./helpers";

/**
 * Another connection takes the lock writers need and keeps it until release(), as a long transaction of
 * another process would; readers are not blocked (SQLite in WAL mode; PostgreSQL's EXCLUSIVE table lock).
 */
async function holdWriteLock(app: TestApp): Promise<{ release(): Promise<void> }> {
  if (app.db.kind === "sqlite") {
    const locker = new Database(app.databaseFile);
    locker.exec("BEGIN EXCLUSIVE; UPDATE User SET name = name WHERE id = 0;");
    return {
      release: async () => {
        locker.exec("COMMIT");
        locker.close();
      },
    };
  }
  const locker = new pg.Client({ connectionString: app.databaseUrl });
  await locker.connect();
  await locker.query(`BEGIN; LOCK TABLE "User", "RevokedToken" IN EXCLUSIVE MODE`);
  return {
    release: async () => {
      await locker.query("COMMIT");
      await locker.end();
    },
  };
}

let t: TestApp;
beforeEach(async () => {
  t = await makeTestApp();
});
afterEach(() => t.close());

describe("CORS", () => {
  it("answers a preflight from an allowed origin without needing a cookie", async () => {
    const res = await t.http().options("/api/user").set("Origin", ALLOWED_ORIGIN).set("Access-Control-Request-Method", "PUT").set("Access-Control-Request-Headers", "content-type,x-origin");
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe(ALLOWED_ORIGIN);
    expect(res.headers["access-control-allow-credentials"]).toBe("true");
    expect(res.headers["access-control-allow-methods"]).toBe("GET,POST,PUT,DELETE,OPTIONS");
    expect(res.headers["access-control-allow-headers"]).toBe("Content-Type,X-Origin");
    expect(res.headers.vary).toMatch(/Origin/);
  });

  it("reflects an allowed origin on actual requests, with credentials and Vary: Origin", async () => {
    const res = await t.http().get("/api/health").set("Origin", "http://127.0.0.1:4100");
    expect(res.headers["access-control-allow-origin"]).toBe("http://127.0.0.1:4100");
    expect(res.headers["access-control-allow-credentials"]).toBe("true");
    expect(res.headers["access-control-expose-headers"]).toMatch(/Retry-After/);
    expect(res.headers.vary).toMatch(/Origin/);
  });

  it.each(["https://evil.example", "null", "http://localhost:4100.evil.example", "http://localhost:41000"])("never reflects the origin %s, and never *", async (origin) => {
    const res = await t.http().get("/api/health").set("Origin", origin);
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    const preflight = await t.http().options("/api/authenticate").set("Origin", origin).set("Access-Control-Request-Method", "POST");
    expectError(preflight, 403, "ORIGIN_NOT_ALLOWED");
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("refuses ALLOWED_ORIGINS=* at startup", async () => {
    await expect(makeTestApp({ ALLOWED_ORIGINS: "*" })).rejects.toThrow(/ALLOWED_ORIGINS/);
  });
});

describe("CSRF origin check", () => {
  it.each(["https://evil.example", "null"])("refuses state changes from Origin %s and changes nothing", async (origin) => {
    const admin = await loginAs(t, "admin");
    const attempts = [
      t.http().post("/api/authenticate").set("Origin", origin).send({ uid: "admin", password: "password" }),
      t.http().post("/api/user").set("Origin", origin).send({ uid: "csrfuser", name: "Csrf", password: "orbit-lantern-42" }),
      t.http().put("/api/user").set("Origin", origin).set("Cookie", admin).send({ name: "Hacked" }),
      t.http().put("/api/user/user").set("Origin", origin).set("Cookie", admin).send({ role: "Admin" }),
      t.http().delete("/api/user/user").set("Origin", origin).set("Cookie", admin),
      t.http().delete("/api/authenticate?all=true").set("Origin", origin).set("Cookie", admin),
    ];
    for (const res of await Promise.all(attempts)) {
      expectError(res, 403, "ORIGIN_NOT_ALLOWED");
      expect(res.headers["set-cookie"]).toBeUndefined();
    }
    expect(await userCount(t)).toBe(2);
    const me = await t.http().get("/api/id").set("Cookie", admin);
    expect(me.status).toBe(200);
    expect(me.body.name).toBe("Admin");
    const users = await t.http().get("/api/user").set("Cookie", admin);
    expect(users.body.find((u: { uid: string }) => u.uid === "user").role).toBe("User");
  });

  it("lets allowed origins and Origin-less clients (curl, Postman) change state", async () => {
    expect((await t.http().post("/api/authenticate").set("Origin", ALLOWED_ORIGIN).send({ uid: "admin", password: "password" })).status).toBe(200);
    expect((await t.http().post("/api/authenticate").send({ uid: "admin", password: "password" })).status).toBe(200);
  });

  it("lets a cross-origin GET through (reads are protected by CORS, not the origin check)", async () => {
    const res = await t.http().get("/api/id").set("Origin", "https://evil.example").set("Cookie", await loginAs(t, "user"));
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined(); // the browser will not let the page read it
  });
});

describe("request bodies", () => {
  it.each([
    ["text/plain", "uid=admin&password=password"],
    ["application/x-www-form-urlencoded", "uid=admin&password=password"],
    ["multipart/form-data; boundary=x", "--x--"],
    ["application/json-patch+json", "{}"],
  ])("returns 415 UNSUPPORTED_MEDIA_TYPE for %s", async (type, body) => {
    const res = await t.http().post("/api/authenticate").set("Content-Type", type).send(body);
    expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("returns 415 for a body on PUT and DELETE that is not JSON", async () => {
    const admin = await loginAs(t, "admin");
    expectError(await t.http().put("/api/user").set("Cookie", admin).set("Content-Type", "text/plain").send("name=x"), 415, "UNSUPPORTED_MEDIA_TYPE");
    expectError(await t.http().delete("/api/user").set("Cookie", admin).set("Content-Type", "text/plain").send("user"), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(await userCount(t)).toBe(2);
  });

  it.each([
    ["malformed JSON", "{\"uid\": "],
    ["a JSON array root", "[1,2]"],
    ["a JSON string root", "\"admin\""],
    ["a JSON number root", "42"],
    ["a __proto__ key", "{\"__proto__\": {\"role\": \"Admin\"}, \"uid\": \"x\"}"],
  ])("returns 400 INVALID_JSON for %s", async (_label, body) => {
    expectError(await t.http().post("/api/user").set("Content-Type", "application/json").send(body), 400, "INVALID_JSON");
    expect(await userCount(t)).toBe(2);
  });

  it("returns 400 INVALID_JSON for a corrupt gzip body and accepts a valid one", async () => {
    const bad = await t.http().post("/api/authenticate").set("Content-Type", "application/json").set("Content-Encoding", "gzip").send(Buffer.from("not gzip at all"));
    expectError(bad, 400, "INVALID_JSON");
    // superagent re-encodes Buffers it is given, so the valid gzip body goes through plain node:http.
    const server = t.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const body = zlib.gzipSync(JSON.stringify({ uid: "admin", password: "password" }));
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, method: "POST", path: "/api/authenticate", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Length": body.length } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on("error", reject);
        req.end(body);
      });
      expect(status).toBe(200);
    } finally {
      server.close();
    }
  });

  it("returns 413 PAYLOAD_TOO_LARGE for a body over BODY_LIMIT", async () => {
    const res = await t.http().post("/api/user").send({ uid: "big", name: "Big", password: "orbit-lantern-42", email: `${"a".repeat(20_000)}@x.io` });
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
    expect(await userCount(t)).toBe(2);
  });
});

describe("routing", () => {
  it.each([["/api/nope"], ["/"], ["/api"], ["/api/user/admin/extra"]])("returns 404 NOT_FOUND for %s", async (path) => {
    expectError(await t.http().get(path), 404, "NOT_FOUND");
  });

  it("returns 405 METHOD_NOT_ALLOWED with Allow for a wrong method", async () => {
    const res = await t.http().patch("/api/user").send({});
    expectError(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.allow).toBe("POST, HEAD, GET, PUT, DELETE");
    const health = await t.http().post("/api/health");
    expectError(health, 405, "METHOD_NOT_ALLOWED");
    expect(health.headers.allow).toBe("HEAD, GET");
  });
});

describe("security headers", () => {
  it.each([["/api/health", 200], ["/api/id", 401], ["/api/nope", 404]])("are on every response (%s)", async (path, status) => {
    const res = await t.http().get(path);
    expect(res.status).toBe(status);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["x-powered-by"]).toBeUndefined();
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
  });
});

describe("health and database failures", () => {
  it("GET /api/health answers 200 and the state of each dependency", async () => {
    const res = await t.http().get("/api/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", database: "ok", redis: dialect === "postgres" ? "ok" : "off" });
  });

  it("answers writes with 503 UNAVAILABLE while another connection holds the write lock, changes nothing, and recovers", async () => {
    const cookie = await loginAs(t, "user");
    const locker = await holdWriteLock(t);
    try {
      expectError(await t.http().post("/api/user").send({ uid: "blocked", name: "Blocked", password: "orbit-lantern-42" }), 503, "UNAVAILABLE");
      const logout = await t.http().delete("/api/authenticate").set("Cookie", cookie);
      expectError(logout, 503, "UNAVAILABLE");
      expect(logout.headers["set-cookie"]).toBeUndefined(); // kept, so a retry can still revoke the token
      // WAL: readers are not blocked by a writer, so sessions are still checked against the database.
      expect((await t.http().get("/api/id").set("Cookie", cookie)).status).toBe(200);
    } finally {
      await locker.release();
    }
    expect(await userCount(t)).toBe(2);
    expect((await t.http().post("/api/user").send({ uid: "blocked", name: "Blocked", password: "orbit-lantern-42" })).status).toBe(201);
    expect((await t.http().get("/api/id").set("Cookie", cookie)).status).toBe(200);
    const retried = await t.http().delete("/api/authenticate").set("Cookie", cookie);
    expect(retried.status).toBe(200);
    expect((retried.headers["set-cookie"] as unknown as string[])[0]).toMatch(/^__Host-jwt_token=; Max-Age=0;/);
    expectError(await t.http().get("/api/id").set("Cookie", cookie), 401, "TOKEN_REVOKED");
  }, 30_000);

  // PostgreSQL going away is tried for real by the replicas suite (test/replicas), on a server of its own.
  if (dialect === "sqlite") {
    it("answers 503 when the database connection is gone, with no internals in the body, and health names it", async () => {
      const cookie = await loginAs(t, "user");
      if (t.db.kind === "sqlite") t.db.raw.close();
      const res = await t.http().get("/api/id").set("Cookie", cookie);
      expectError(res, 503, "UNAVAILABLE");
      expect(JSON.stringify(res.body)).not.toMatch(/sqlite|database connection|\/tmp|at .*\.ts/i);
      const health = await t.http().get("/api/health");
      expectError(health, 503, "UNAVAILABLE");
      expect(health.body.message).toBe("The database is not answering");
      expect(health.body.data).toEqual({ status: "unavailable", database: "down", redis: "off" });
    });
  }
});

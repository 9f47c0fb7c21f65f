// Login, logout and /api/id through HTTP: docs/api.md rows for /api/authenticate and /api/id.
import { expectError, loginAs, makeTestApp, sessionCookieOf, tokenOf, type TestApp } from "./helpers";

let t: TestApp;
beforeEach(async () => {
  t = await makeTestApp();
});
afterEach(() => t.close());

describe("POST /api/authenticate", () => {
  it("logs in with the seeded admin and returns the public user and a session cookie", async () => {
    const res = await t.http().post("/api/authenticate").send({ uid: "admin", password: "password" });
    expect(res.status).toBe(200);
    expect(res.body.message).toBe("Authentication for admin successful");
    expect(Object.keys(res.body.user).sort()).toEqual(["createdAt", "email", "emailVerified", "id", "mfaEnabled", "name", "role", "uid", "updatedAt"]);
    expect(res.body.user).toMatchObject({ uid: "admin", role: "Admin", name: "Admin" });
    expect(JSON.stringify(res.body)).not.toMatch(/\$2[aby]\$|passwordHash|tokenVersion/);
  });

  it("sets the cookie with exactly the documented attributes (docs/api.md › Session cookie) and no Domain", async () => {
    const res = await t.http().post("/api/authenticate").send({ uid: "admin", password: "password" });
    const [cookie] = res.headers["set-cookie"] as unknown as string[];
    const parts = cookie.split("; ");
    expect(parts[0]).toMatch(/^__Host-jwt_token=[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(parts.slice(1).sort()).toEqual(["HttpOnly", "Max-Age=3600", "Partitioned", "Path=/", "SameSite=None", "Secure"]);
    expect(cookie).not.toMatch(/domain=/i);
  });

  it("omits Partitioned when COOKIE_PARTITIONED=false and honours JWT_TTL_SECONDS", async () => {
    const other = await makeTestApp({ COOKIE_PARTITIONED: "false", JWT_TTL_SECONDS: "600" });
    try {
      const res = await other.http().post("/api/authenticate").send({ uid: "admin", password: "password" });
      const cookie = (res.headers["set-cookie"] as unknown as string[])[0];
      expect(cookie).not.toMatch(/Partitioned/);
      expect(cookie).toMatch(/; Max-Age=600;/);
      expect(cookie).toMatch(/; Secure/);
    } finally {
      await other.close();
    }
  });

  it("compares uids case-insensitively", async () => {
    const res = await t.http().post("/api/authenticate").send({ uid: "ADMIN", password: "password" });
    expect(res.status).toBe(200);
    expect(res.body.user.uid).toBe("admin");
  });

  it("issues a fresh token on every login, whatever cookie the request carried", async () => {
    const first = await loginAs(t, "admin");
    const res = await t.http().post("/api/authenticate").set("Cookie", first).send({ uid: "admin", password: "password" });
    const second = sessionCookieOf(res);
    expect(second).not.toBe(first);
    const jti = (c: string) => JSON.parse(Buffer.from(tokenOf(c).split(".")[1], "base64url").toString()).jti;
    expect(jti(second)).not.toBe(jti(first));
  });

  it.each([
    ["an empty body", undefined],
    ["an empty object", {}],
  ])("returns 400 BODY_MISSING for %s", async (_label, body) => {
    const req = t.http().post("/api/authenticate");
    const res = body === undefined ? await req : await req.send(body);
    expectError(res, 400, "BODY_MISSING");
    expect(res.body.message).toBe("Please provide user details");
  });

  it("returns 401 UID_MISSING without uid and 401 PASSWORD_MISSING without password", async () => {
    const noUid = await t.http().post("/api/authenticate").send({ password: "password" });
    expectError(noUid, 401, "UID_MISSING");
    expect(noUid.body.message).toBe("User ID is missing");
    const noPassword = await t.http().post("/api/authenticate").send({ uid: "admin" });
    expectError(noPassword, 401, "PASSWORD_MISSING");
    expect(noPassword.body.message).toBe("Password is missing");
  });

  it("answers an unknown uid and a wrong password with identical bodies and no cookie", async () => {
    const unknown = await t.http().post("/api/authenticate").send({ uid: "nobody", password: "password" });
    const wrong = await t.http().post("/api/authenticate").send({ uid: "admin", password: "wrong-password" });
    expectError(unknown, 401, "INVALID_CREDENTIALS");
    expect(unknown.body.message).toBe("Invalid user id or password");
    expect(wrong.body).toEqual(unknown.body);
    expect(unknown.headers["set-cookie"]).toBeUndefined();
    expect(wrong.headers["set-cookie"]).toBeUndefined();
  });

  it("refuses passwords over 72 bytes instead of letting bcrypt truncate them", async () => {
    const password = "T7v!q9Lz".repeat(9);
    const res = await t.http().post("/api/user").send({ uid: "longpw", name: "Long", password });
    expect(res.status).toBe(201);
    const login = await t.http().post("/api/authenticate").send({ uid: "longpw", password: password + "b" });
    expect(login.status).toBe(401);
  });

  it("returns 400 VALIDATION_FAILED for wrong types and unknown fields", async () => {
    expectError(await t.http().post("/api/authenticate").send({ uid: 5, password: "password" }), 400, "VALIDATION_FAILED");
    const extra = await t.http().post("/api/authenticate").send({ uid: "admin", password: "password", role: "Admin" });
    expectError(extra, 400, "VALIDATION_FAILED");
    expect(extra.body.data).toEqual([{ field: "role", message: "unknown field" }]);
  });
});

describe("GET /api/id", () => {
  it("returns the logged-in user", async () => {
    const cookie = await loginAs(t, "user");
    const res = await t.http().get("/api/id").set("Cookie", cookie);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ uid: "user", role: "User" });
    expect(Object.keys(res.body).sort()).toEqual(["createdAt", "email", "emailVerified", "id", "mfaEnabled", "name", "role", "uid", "updatedAt"]);
  });

  it("returns 401 TOKEN_MISSING without a cookie", async () => {
    const res = await t.http().get("/api/id");
    expectError(res, 401, "TOKEN_MISSING");
    expect(res.body.message).toBe("Authentication Token is missing!");
  });

  it("accepts an Authorization: Bearer token for non-browser clients", async () => {
    const cookie = await loginAs(t, "user");
    const res = await t.http().get("/api/id").set("Authorization", `Bearer ${tokenOf(cookie)}`);
    expect(res.status).toBe(200);
    expect(res.body.uid).toBe("user");
  });

  it("never reads the token from the query string or the body", async () => {
    const token = tokenOf(await loginAs(t, "user"));
    expectError(await t.http().get(`/api/id?token=${token}&jwt_token=${token}`), 401, "TOKEN_MISSING");
    expectError(await t.http().get("/api/user").query({ __Host_jwt_token: token }), 401, "TOKEN_MISSING");
  });
});

describe("DELETE /api/authenticate", () => {
  it("logs out: clears the cookie with the same attributes and revokes the token", async () => {
    const cookie = await loginAs(t, "user");
    const res = await t.http().delete("/api/authenticate").set("Cookie", cookie);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Token invalidated successfully" });
    const cleared = (res.headers["set-cookie"] as unknown as string[])[0].split("; ");
    expect(cleared[0]).toBe("__Host-jwt_token=");
    expect(cleared.slice(1).sort()).toEqual(["HttpOnly", "Max-Age=0", "Partitioned", "Path=/", "SameSite=None", "Secure"]);
    expectError(await t.http().get("/api/id").set("Cookie", cookie), 401, "TOKEN_REVOKED");
  });

  it("is idempotent: without a cookie, or twice, it still answers 200", async () => {
    expect((await t.http().delete("/api/authenticate")).status).toBe(200);
    const cookie = await loginAs(t, "user");
    expect((await t.http().delete("/api/authenticate").set("Cookie", cookie)).status).toBe(200);
    expect((await t.http().delete("/api/authenticate").set("Cookie", cookie)).status).toBe(200);
    expect((await t.http().delete("/api/authenticate").set("Cookie", "__Host-jwt_token=garbage")).status).toBe(200);
  });

  it("?all=true revokes every session of the user but not other users' sessions", async () => {
    const laptop = await loginAs(t, "user");
    const phone = await loginAs(t, "user");
    const admin = await loginAs(t, "admin");
    const res = await t.http().delete("/api/authenticate?all=true").set("Cookie", laptop);
    expect(res.status).toBe(200);
    expectError(await t.http().get("/api/id").set("Cookie", laptop), 401, "TOKEN_REVOKED");
    expectError(await t.http().get("/api/id").set("Cookie", phone), 401, "TOKEN_REVOKED");
    expect((await t.http().get("/api/id").set("Cookie", admin)).status).toBe(200);
    // A new login after logout-all works.
    expect((await t.http().get("/api/id").set("Cookie", await loginAs(t, "user"))).status).toBe(200);
  });

  it("?all=true without a valid token is refused with 401 and changes nothing", async () => {
    const phone = await loginAs(t, "user");
    expectError(await t.http().delete("/api/authenticate?all=true"), 401, "TOKEN_MISSING");
    expect((await t.http().get("/api/id").set("Cookie", phone)).status).toBe(200);
  });
});

describe("startup seeding", () => {
  it("creates ADMIN_UID once and never overwrites an existing user's password or role", async () => {
    const databaseUrl = t.databaseUrl;
    expect((await t.http().put("/api/user/user").set("Cookie", await loginAs(t, "admin")).send({ role: "Admin" })).status).toBe(200);
    await t.close();
    t = await makeTestApp({ ADMIN_UID: "user", ADMIN_PASSWORD: "another-password", DEMO_USERS: "false" }, { databaseUrl });
    expect((await t.http().post("/api/authenticate").send({ uid: "user", password: "another-password" })).status).toBe(401);
    const login = await t.http().post("/api/authenticate").send({ uid: "user", password: "password" });
    expect(login.body.user).toMatchObject({ name: "Demo User", role: "Admin" });
    await t.close();
    t = await makeTestApp({ ADMIN_UID: "ops", ADMIN_PASSWORD: "ops-password-123", ADMIN_NAME: "Ops Team" }, { databaseUrl });
    const ops = await t.http().post("/api/authenticate").send({ uid: "ops", password: "ops-password-123" });
    expect(ops.body.user).toMatchObject({ uid: "ops", name: "Ops Team", role: "Admin" });
  });

});

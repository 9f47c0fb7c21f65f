// Signup, profile and admin user management through HTTP (docs/api.md › Routes, Status codes), asserting that refused
// requests change nothing.
import { expectError, loginAs, makeTestApp, sessionCookieOf, signup, userCount, type TestApp } from "./helpers";

let t: TestApp;
beforeEach(async () => {
  t = await makeTestApp();
});
afterEach(() => t.close());

const publicKeys = ["createdAt", "email", "emailVerified", "id", "mfaEnabled", "name", "role", "uid", "updatedAt"];

describe("POST /api/user (signup)", () => {
  it("creates a User and answers 201 with the public user and no cookie", async () => {
    const res = await t.http().post("/api/user").send({ uid: "octo-cat.1", name: "Octo Cat", password: "correct horse", email: "octo@example.com" });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(publicKeys);
    expect(res.body).toMatchObject({ uid: "octo-cat.1", name: "Octo Cat", email: "octo@example.com", role: "User" });
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect((await t.http().post("/api/authenticate").send({ uid: "octo-cat.1", password: "correct horse" })).status).toBe(200);
  });

  it("stores a bcrypt hash, never the password", async () => {
    await signup(t, "hashme", "plaintext-secret");
    const [row] = await t.sql<{ passwordHash: string }>(`SELECT "passwordHash" FROM "User" WHERE "uidKey" = 'hashme'`);
    expect(row.passwordHash).toMatch(/^\$2[aby]\$04\$/);
    expect(row.passwordHash).not.toContain("plaintext-secret");
  });

  it("returns 409 UID_TAKEN for a duplicate uid, in any case, and keeps the first user", async () => {
    await signup(t, "Dupe");
    const before = await userCount(t);
    expectError(await t.http().post("/api/user").send({ uid: "dupe", name: "Other", password: "orbit-lantern-42" }), 409, "UID_TAKEN");
    expectError(await t.http().post("/api/user").send({ uid: "ADMIN", name: "Other", password: "orbit-lantern-42" }), 409, "UID_TAKEN");
    expect(await userCount(t)).toBe(before);
    expect((await t.http().post("/api/authenticate").send({ uid: "dupe", password: "orbit-lantern-42" })).status).toBe(200);
  });

  it("gives exactly one 201 for 25 parallel signups of one uid", async () => {
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => t.http().post("/api/user").send({ uid: "racer", name: `Racer ${i}`, password: "orbit-lantern-42" })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(24);
    expect(await userCount(t, `"uidKey" = 'racer'`)).toBe(1);
  });

  it.each([
    [{ uid: "a", name: "Ab", password: "orbit-lantern-42" }, "uid"],
    [{ uid: "x".repeat(40), name: "Ab", password: "orbit-lantern-42" }, "uid"],
    [{ uid: "bad uid!", name: "Ab", password: "orbit-lantern-42" }, "uid"],
    [{ uid: "okuid", name: "A", password: "orbit-lantern-42" }, "name"],
    [{ uid: "okuid", name: "A".repeat(101), password: "orbit-lantern-42" }, "name"],
    [{ uid: "okuid", name: "Ab", password: "short" }, "password"],
    [{ uid: "okuid", name: "Ab", password: "é".repeat(37) }, "password"],
    [{ uid: "okuid", name: "Ab", password: "orbit-lantern-42", email: "not-an-email" }, "email"],
    [{ uid: "okuid", name: "Ab", password: "orbit-lantern-42", role: "Admin" }, "role"],
    [{ uid: 42, name: "Ab", password: "orbit-lantern-42" }, "uid"],
    [{ name: "Ab", password: "orbit-lantern-42" }, "uid"],
  ])("returns 400 VALIDATION_FAILED naming the field for %j", async (body, field) => {
    const before = await userCount(t);
    const res = await t.http().post("/api/user").send(body);
    expectError(res, 400, "VALIDATION_FAILED");
    expect(res.body.data.map((d: { field: string }) => d.field)).toContain(field);
    expect(await userCount(t)).toBe(before);
  });

  it("accepts the boundaries: 2- and 39-character uids, 8 characters to 72 bytes of password", async () => {
    await signup(t, "ab", "Zq7#vP2m");
    await signup(t, "a".repeat(39), "T7v!q9Lz".repeat(9));
    expect((await t.http().post("/api/authenticate").send({ uid: "a".repeat(39), password: "T7v!q9Lz".repeat(9) })).status).toBe(200);
  });

  it("returns 403 SIGNUP_DISABLED when SIGNUP_ENABLED=false", async () => {
    const closed = await makeTestApp({ SIGNUP_ENABLED: "false" });
    try {
      expectError(await closed.http().post("/api/user").send({ uid: "newbie", name: "Newbie", password: "orbit-lantern-42" }), 403, "SIGNUP_DISABLED");
      expect(await userCount(closed)).toBe(2);
    } finally {
      await closed.close();
    }
  });
});

describe("GET /api/user", () => {
  it("lists every user for an Admin, each with access rw, never a hash", async () => {
    await signup(t, "third");
    const res = await t.http().get("/api/user").set("Cookie", await loginAs(t, "admin"));
    expect(res.status).toBe(200);
    expect(res.body.map((u: { uid: string }) => u.uid)).toEqual(["admin", "user", "third"]);
    for (const u of res.body) {
      expect(u.access).toEqual(["rw"]);
      expect(Object.keys(u).sort()).toEqual([...publicKeys, "access"].sort());
    }
  });

  it("returns only [self] for a User", async () => {
    const res = await t.http().get("/api/user").set("Cookie", await loginAs(t, "user"));
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ uid: "user", access: ["rw"] });
  });
});

describe("PUT /api/user (self)", () => {
  it("updates name, email and uid", async () => {
    const cookie = await loginAs(t, "user");
    const res = await t.http().put("/api/user").set("Cookie", cookie).send({ name: "Renamed", email: "me@example.com", uid: "renamed", currentPassword: "password" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ uid: "renamed", name: "Renamed", email: "me@example.com" });
    expect(Object.keys(res.body).sort()).toEqual(publicKeys);
    // Same session still works: the id is immutable, the uid is not.
    expect((await t.http().get("/api/id").set("Cookie", cookie)).body.uid).toBe("renamed");
    // Clearing the email with "" or null.
    expect((await t.http().put("/api/user").set("Cookie", cookie).send({ email: "", currentPassword: "password" })).body.email).toBeNull();
  });

  it("returns 409 UID_TAKEN when renaming onto another user's uid, and changes nothing", async () => {
    const cookie = await loginAs(t, "user");
    expectError(await t.http().put("/api/user").set("Cookie", cookie).send({ uid: "Admin", name: "Changed", currentPassword: "password" }), 409, "UID_TAKEN");
    expect((await t.http().get("/api/id").set("Cookie", cookie)).body).toMatchObject({ uid: "user", name: "Demo User" });
  });

  it("refuses role from a non-admin with 400 and does not promote", async () => {
    const cookie = await loginAs(t, "user");
    const res = await t.http().put("/api/user").set("Cookie", cookie).send({ role: "Admin" });
    expectError(res, 400, "VALIDATION_FAILED");
    expect(res.body.data).toEqual([{ field: "role", message: "can only be changed by an admin" }]);
    expect((await t.http().get("/api/id").set("Cookie", cookie)).body.role).toBe("User");
  });

  it("changes the password only with the right currentPassword, revokes other sessions and re-issues this one", async () => {
    const here = await loginAs(t, "user");
    const elsewhere = await loginAs(t, "user");
    const missing = await t.http().put("/api/user").set("Cookie", here).send({ password: "new-password" });
    expectError(missing, 400, "VALIDATION_FAILED");
    expect(missing.body.data[0].field).toBe("currentPassword");
    expectError(await t.http().put("/api/user").set("Cookie", here).send({ password: "new-password", currentPassword: "wrong-one" }), 400, "VALIDATION_FAILED");
    expect((await t.http().post("/api/authenticate").send({ uid: "user", password: "password" })).status).toBe(200);

    const res = await t.http().put("/api/user").set("Cookie", here).send({ password: "new-password", currentPassword: "password" });
    expect(res.status).toBe(200);
    const reissued = sessionCookieOf(res);
    expect((await t.http().get("/api/id").set("Cookie", reissued)).status).toBe(200);
    expectError(await t.http().get("/api/id").set("Cookie", elsewhere), 401, "TOKEN_REVOKED");
    expectError(await t.http().get("/api/id").set("Cookie", here), 401, "TOKEN_REVOKED");
    expect((await t.http().post("/api/authenticate").send({ uid: "user", password: "password" })).status).toBe(401);
    expect((await t.http().post("/api/authenticate").send({ uid: "user", password: "new-password" })).status).toBe(200);
  });

  it("returns 400 VALIDATION_FAILED for unknown fields and bad values, changing nothing", async () => {
    const cookie = await loginAs(t, "user");
    expectError(await t.http().put("/api/user").set("Cookie", cookie).send({ isAdmin: true }), 400, "VALIDATION_FAILED");
    expectError(await t.http().put("/api/user").set("Cookie", cookie).send({ name: "x" }), 400, "VALIDATION_FAILED");
    expectError(await t.http().put("/api/user").set("Cookie", cookie).send({ email: "nope" }), 400, "VALIDATION_FAILED");
    expect((await t.http().get("/api/id").set("Cookie", cookie)).body).toMatchObject({ name: "Demo User", email: null });
  });

  it("returns 401 TOKEN_MISSING without a cookie", async () => {
    expectError(await t.http().put("/api/user").send({ name: "Nobody" }), 401, "TOKEN_MISSING");
  });
});

describe("PUT /api/user/:uid (admin)", () => {
  it("changes a user's role and revokes that user's sessions", async () => {
    const admin = await loginAs(t, "admin");
    const userSession = await loginAs(t, "user");
    const res = await t.http().put("/api/user/USER").set("Cookie", admin).send({ role: "Admin" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ uid: "user", role: "Admin" });
    expectError(await t.http().get("/api/id").set("Cookie", userSession), 401, "TOKEN_REVOKED");
    expect((await t.http().get("/api/id").set("Cookie", await loginAs(t, "user"))).body.role).toBe("Admin");
  });

  it("resets a password, revoking sessions; edits name and email", async () => {
    const admin = await loginAs(t, "admin");
    const userSession = await loginAs(t, "user");
    expect((await t.http().put("/api/user/user").set("Cookie", admin).send({ password: "reset-password", name: "Reset", email: "r@example.com" })).status).toBe(200);
    expectError(await t.http().get("/api/id").set("Cookie", userSession), 401, "TOKEN_REVOKED");
    const login = await t.http().post("/api/authenticate").send({ uid: "user", password: "reset-password" });
    expect(login.body.user).toMatchObject({ name: "Reset", email: "r@example.com" });
  });

  it("a name-only edit does not end the user's sessions", async () => {
    const admin = await loginAs(t, "admin");
    const userSession = await loginAs(t, "user");
    await t.http().put("/api/user/user").set("Cookie", admin).send({ name: "Just A Name" });
    expect((await t.http().get("/api/id").set("Cookie", userSession)).body.name).toBe("Just A Name");
  });

  it("returns 404 USER_NOT_FOUND for an unknown uid", async () => {
    expectError(await t.http().put("/api/user/ghost").set("Cookie", await loginAs(t, "admin")).send({ name: "Ghost" }), 404, "USER_NOT_FOUND");
  });

  it("returns 403 FORBIDDEN_ROLE for a User, with the required roles, and changes nothing", async () => {
    const res = await t.http().put("/api/user/admin").set("Cookie", await loginAs(t, "user")).send({ role: "User" });
    expectError(res, 403, "FORBIDDEN_ROLE");
    expect(res.body.message).toBe("Insufficient permissions. Required roles: Admin");
    expect((await t.http().get("/api/id").set("Cookie", await loginAs(t, "admin"))).body.role).toBe("Admin");
  });

  it("refuses to demote the last admin with 409 LAST_ADMIN", async () => {
    const admin = await loginAs(t, "admin");
    expectError(await t.http().put("/api/user/admin").set("Cookie", admin).send({ role: "User" }), 409, "LAST_ADMIN");
    expect((await t.http().get("/api/id").set("Cookie", admin)).body.role).toBe("Admin");
  });
});

describe("DELETE /api/user", () => {
  it("deletes by path with 204, and the user's tokens stop working at once", async () => {
    const admin = await loginAs(t, "admin");
    const victim = await loginAs(t, "user");
    const res = await t.http().delete("/api/user/user").set("Cookie", admin);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expectError(await t.http().get("/api/id").set("Cookie", victim), 401, "TOKEN_INVALID");
    expect(await userCount(t)).toBe(1);
    expectError(await t.http().post("/api/authenticate").send({ uid: "user", password: "password" }), 401, "INVALID_CREDENTIALS");
  });

  it("deletes by body {uid} with 204", async () => {
    const res = await t.http().delete("/api/user").set("Cookie", await loginAs(t, "admin")).send({ uid: "user" });
    expect(res.status).toBe(204);
    expect(await userCount(t)).toBe(1);
  });

  it("returns 404 USER_NOT_FOUND for an unknown user and 400 for a body without uid", async () => {
    const admin = await loginAs(t, "admin");
    expectError(await t.http().delete("/api/user/ghost").set("Cookie", admin), 404, "USER_NOT_FOUND");
    expectError(await t.http().delete("/api/user").set("Cookie", admin).send({}), 400, "VALIDATION_FAILED");
    expect(await userCount(t)).toBe(2);
  });

  it("returns 403 when a User deletes another user, and deletes nothing", async () => {
    const res = await t.http().delete("/api/user/admin").set("Cookie", await loginAs(t, "user"));
    expectError(res, 403, "FORBIDDEN_ROLE");
    expect(await userCount(t)).toBe(2);
  });

  it("refuses to delete the last admin", async () => {
    expectError(await t.http().delete("/api/user/admin").set("Cookie", await loginAs(t, "admin")), 409, "LAST_ADMIN");
    expect(await userCount(t)).toBe(2);
  });
});

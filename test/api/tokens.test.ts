// Forged, expired and revoked tokens are all refused with the right 401 (docs/api.md › Tokens); role comes from the DB.
import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import { expectError, loginAs, makeTestApp, TEST_SECRET, tokenOf, type TestApp } from "./helpers";

let t: TestApp;
beforeEach(async () => {
  t = await makeTestApp();
});
afterEach(() => t.close());

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const kidOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).kid as string;
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());

/** Signs any payload/header with HS256 and the given secret: a token only the real key should make. */
function forge(payload: unknown, header: Record<string, unknown>, secret = TEST_SECRET): string {
  const head = b64({ typ: "JWT", ...header });
  const body = b64(payload);
  const sig = crypto.createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

async function validToken(uid = "user") {
  return tokenOf(await loginAs(t, uid));
}

const idWith = (token: string) => t.http().get("/api/id").set("Cookie", `__Host-jwt_token=${token}`);

describe("forged and malformed tokens", () => {
  it("refuses a tampered payload (role or sub changed) with TOKEN_INVALID", async () => {
    const token = await validToken();
    const [h, , s] = token.split(".");
    const tampered = `${h}.${b64({ ...claimsOf(token), sub: "1" })}.${s}`;
    expectError(await idWith(tampered), 401, "TOKEN_INVALID");
  });

  it("refuses a token signed with a foreign key", async () => {
    const token = await validToken();
    const foreign = forge(claimsOf(token), { alg: "HS256", kid: kidOf(token) }, "another-secret-that-is-long-enough-xxxxxxx");
    expectError(await idWith(foreign), 401, "TOKEN_INVALID");
    expect((await idWith(forge(claimsOf(token), { alg: "HS256", kid: kidOf(token) }))).status).toBe(200); // control
  });

  it.each(["none", "None", "NONE", "nOnE"])("refuses alg %s", async (alg) => {
    const token = await validToken();
    const unsigned = `${b64({ alg, typ: "JWT", kid: kidOf(token) })}.${b64(claimsOf(token))}.`;
    expectError(await idWith(unsigned), 401, "TOKEN_INVALID");
  });

  it.each(["HS384", "HS512", "RS256"])("refuses alg %s even when signed with the right secret", async (alg) => {
    const token = await validToken();
    const header = { alg, kid: kidOf(token) };
    const other = alg.startsWith("HS")
      ? jwt.sign(claimsOf(token), TEST_SECRET, { algorithm: alg as jwt.Algorithm, header: header as jwt.JwtHeader })
      : forge(claimsOf(token), header); // RS256 "signed" with the HMAC secret: the key-confusion forgery
    expectError(await idWith(other), 401, "TOKEN_INVALID");
  });

  it("refuses an unknown kid and a missing kid", async () => {
    const token = await validToken();
    expectError(await idWith(forge(claimsOf(token), { alg: "HS256", kid: "nope" })), 401, "TOKEN_INVALID");
    expectError(await idWith(forge(claimsOf(token), { alg: "HS256" })), 401, "TOKEN_INVALID");
  });

  it("refuses a token without exp, with a non-numeric exp, or with an absurd lifetime", async () => {
    const token = await validToken();
    const { exp, ...noExp } = claimsOf(token);
    const kid = kidOf(token);
    expectError(await idWith(forge(noExp, { alg: "HS256", kid })), 401, "TOKEN_INVALID");
    expectError(await idWith(forge({ ...noExp, exp: String(exp) }, { alg: "HS256", kid })), 401, "TOKEN_INVALID");
    expectError(await idWith(forge({ ...noExp, exp: noExp.iat + 10 * 365 * 86400 }, { alg: "HS256", kid })), 401, "TOKEN_INVALID");
  });

  it("refuses an iat in the future, array payloads, string payloads and claims of the wrong type", async () => {
    const token = await validToken();
    const claims = claimsOf(token);
    const kid = kidOf(token);
    const future = Math.floor(Date.now() / 1000) + 3600;
    expectError(await idWith(forge({ ...claims, iat: future, exp: future + 3600 }, { alg: "HS256", kid })), 401, "TOKEN_INVALID");
    expectError(await idWith(forge([claims], { alg: "HS256", kid })), 401, "TOKEN_INVALID");
    expectError(await idWith(forge("just a string", { alg: "HS256", kid })), 401, "TOKEN_INVALID");
    expectError(await idWith(forge({ ...claims, sub: Number(claims.sub) }, { alg: "HS256", kid })), 401, "TOKEN_INVALID");
    expectError(await idWith(forge({ ...claims, ver: "0" }, { alg: "HS256", kid })), 401, "TOKEN_INVALID");
    expectError(await idWith(forge({ ...claims, iss: "someone-else" }, { alg: "HS256", kid })), 401, "TOKEN_INVALID");
  });

  it.each(["garbage", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9", "x".repeat(5000)])("refuses the malformed token %#", async (token) => {
    expectError(await idWith(token), 401, "TOKEN_INVALID");
  });
});

describe("expiry and revocation", () => {
  it("refuses an expired token with TOKEN_EXPIRED", async () => {
    const token = await validToken();
    t.advance(3601 * 1000);
    expectError(await idWith(token), 401, "TOKEN_EXPIRED");
  });

  it("clears the dead cookie when refusing it", async () => {
    const token = await validToken();
    t.advance(3601 * 1000);
    const res = await idWith(token);
    expect((res.headers["set-cookie"] as unknown as string[])[0]).toMatch(/^__Host-jwt_token=; Max-Age=0;/);
  });

  it("refuses the token of a deleted user at once", async () => {
    const token = await validToken("user");
    const admin = await loginAs(t, "admin");
    expect((await t.http().delete("/api/user/user").set("Cookie", admin)).status).toBe(204);
    expectError(await idWith(token), 401, "TOKEN_INVALID");
  });

  it("takes the role from the database, not from the token", async () => {
    const token = await validToken("user");
    const forged = forge({ ...claimsOf(token), role: "Admin" }, { alg: "HS256", kid: kidOf(token) });
    const res = await t.http().put("/api/user/admin").set("Cookie", `__Host-jwt_token=${forged}`).send({ name: "Pwned" });
    expectError(res, 403, "FORBIDDEN_ROLE");
    expect((await t.http().get("/api/id").set("Cookie", await loginAs(t, "admin"))).body.name).toBe("Admin");
  });

  it("a demoted admin loses admin rights at once", async () => {
    const root = await loginAs(t, "admin");
    await t.http().put("/api/user/user").set("Cookie", root).send({ role: "Admin" });
    const second = await loginAs(t, "user");
    expect((await t.http().get("/api/user").set("Cookie", second)).body).toHaveLength(2);
    await t.http().put("/api/user/user").set("Cookie", root).send({ role: "User" });
    expectError(await t.http().get("/api/user").set("Cookie", second), 401, "TOKEN_REVOKED");
    const again = await loginAs(t, "user");
    expectError(await t.http().delete("/api/user/admin").set("Cookie", again), 403, "FORBIDDEN_ROLE");
  });

  it("revocation by logout survives an app restart on the same database", async () => {
    const token = await validToken();
    expect((await t.http().delete("/api/authenticate").set("Cookie", `__Host-jwt_token=${token}`)).status).toBe(200);
    const databaseUrl = t.databaseUrl;
    await t.close();
    t = await makeTestApp({}, { databaseUrl });
    expectError(await idWith(token), 401, "TOKEN_REVOKED");
  });

  it("logout-all, password change and role change survive an app restart too", async () => {
    const admin = await loginAs(t, "admin");
    const a = await validToken("user");
    expect((await t.http().put("/api/user/user").set("Cookie", admin).send({ role: "Admin" })).status).toBe(200);
    const databaseUrl = t.databaseUrl;
    await t.close();
    t = await makeTestApp({}, { databaseUrl });
    expectError(await idWith(a), 401, "TOKEN_REVOKED");
  });

  it("accepts tokens signed with a key listed in JWT_PREVIOUS_SECRETS and refuses them once it is dropped", async () => {
    const oldSecret = "the-old-secret-that-is-long-enough-0123456789";
    const databaseUrl = t.databaseUrl;
    await t.close();
    t = await makeTestApp({ JWT_SECRET: oldSecret }, { databaseUrl });
    const token = await validToken();
    await t.close();
    t = await makeTestApp({ JWT_PREVIOUS_SECRETS: oldSecret }, { databaseUrl });
    expect((await idWith(token)).status).toBe(200);
    // New logins are signed with the current key.
    const fresh = await validToken();
    expect(kidOf(fresh)).not.toBe(kidOf(token));
    await t.close();
    t = await makeTestApp({}, { databaseUrl });
    expectError(await idWith(token), 401, "TOKEN_INVALID");
    expect((await idWith(fresh)).status).toBe(200);
  });
});

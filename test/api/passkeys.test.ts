// Passkeys (docs/passkeys.md): creation and request options, registration and sign-in with a software passkey
// (test/api/support/passkey.ts), every verification failure, the account's list, ownership, the last login method,
// and the refusals before a ceremony starts — through HTTP, on both databases.
import { captureLogs, expectError, loginAs, makeTestApp, sessionCookieOf, signup, type TestApp } from "./helpers";
import { cookieOf, FLAGS, fromPage, loginOptions, PAGE_ORIGIN, registerPasskey, signInWith, SoftwarePasskey } from "./support/passkey";
import { enrolled } from "./support/two-factor";

const PASSWORD = "orbit-lantern-42";

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const id = (cookie: string) => t.http().get("/api/id").set("Cookie", cookie);
const list = (cookie: string) => t.http().get("/api/passkeys").set("Cookie", cookie);
const tokenRows = (purpose: string) => t.sql<{ userId: number | null }>(`SELECT "userId" FROM "OneTimeToken" WHERE "purpose" = ?`, [purpose]);
const passkeyRows = () => t.sql<{ id: number; userId: number; name: string; counter: number | string; backedUp: unknown; deviceType: string; rpId: string }>(`SELECT "id", "userId", "name", "counter", "backedUp", "deviceType", "rpId" FROM "Passkey" ORDER BY "id"`);

/** An account without a password, as Sign in with GitHub makes them. */
const withoutPassword = (userId: number) => t.app.services.db.prisma.user.update({ where: { id: userId }, data: { passwordHash: null } });

async function newUser(uid: string): Promise<{ id: number; cookie: string }> {
  const { id: userId } = await signup(t, uid, PASSWORD);
  return { id: userId, cookie: await loginAs(t, uid, PASSWORD) };
}

/** Registration options for `cookie`, from the page. */
async function creationOptions(cookie: string) {
  const res = await fromPage(t, "post", "/api/passkeys/registration/options", cookie).send({});
  expect(res.status).toBe(200);
  return res.body;
}

describe("registration options", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("ask for a discoverable, user-verified credential without attestation, for a random handle that is not the uid", async () => {
    const alice = await newUser("alice");
    const options = await creationOptions(alice.cookie);
    expect(options.rp).toEqual({ name: "crossauth", id: "localhost" });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: "required", requireResidentKey: true, userVerification: "required" });
    expect(options.attestation).toBe("none");
    expect(options.excludeCredentials).toEqual([]);
    expect(options.user.name).toBe("alice");
    // user.id is the per-user handle: 16 random bytes kept in User.webauthnUserId, never the uid or the row id.
    const handle = Buffer.from(options.user.id, "base64url");
    expect(handle).toHaveLength(16);
    expect(handle.toString("utf8")).not.toContain("alice");
    const [stored] = await t.sql<{ webauthnUserId: Buffer | Uint8Array }>(`SELECT "webauthnUserId" FROM "User" WHERE "id" = ?`, [alice.id]);
    expect(Buffer.from(stored.webauthnUserId).equals(handle)).toBe(true);
    // The same handle every time; another account gets another.
    expect((await creationOptions(alice.cookie)).user.id).toBe(options.user.id);
    const bob = await newUser("bob");
    expect((await creationOptions(bob.cookie)).user.id).not.toBe(options.user.id);
    // The challenge is a one-time token of this account (32 bytes), stored only as a hash.
    expect(Buffer.from(options.challenge, "base64url")).toHaveLength(32);
    const rows = await tokenRows("webauthn_register");
    expect(rows.filter((r) => r.userId === alice.id)).toHaveLength(2);
    expect(JSON.stringify(await t.sql(`SELECT * FROM "OneTimeToken"`))).not.toContain(options.challenge);
  });

  it("exclude the account's own passkeys, and only those", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const first = new SoftwarePasskey();
    const second = new SoftwarePasskey();
    await registerPasskey(t, alice.cookie, first);
    await registerPasskey(t, alice.cookie, second);
    await registerPasskey(t, bob.cookie, new SoftwarePasskey());
    const options = await creationOptions(alice.cookie);
    expect(options.excludeCredentials.map((c: { id: string }) => c.id).sort()).toEqual([first.credentialId, second.credentialId].sort());
    expect(options.excludeCredentials[0]).toMatchObject({ type: "public-key", transports: ["internal", "hybrid"] });
  });

  it("need a session, and a sign-in less than 10 minutes old (adding a way into the account)", async () => {
    expectError(await fromPage(t, "post", "/api/passkeys/registration/options").send({}), 401, "TOKEN_MISSING");
    const alice = await newUser("alice");
    t.advance(11 * 60_000);
    const stale = await fromPage(t, "post", "/api/passkeys/registration/options", alice.cookie).send({});
    expectError(stale, 401, "REAUTH_REQUIRED");
    expect(stale.body.message).toMatch(/sign in again/);
    expect(await tokenRows("webauthn_register")).toHaveLength(0);
    const fresh = await loginAs(t, "alice", PASSWORD);
    expect((await fromPage(t, "post", "/api/passkeys/registration/options", fresh).send({})).status).toBe(200);
  });

  it("take {} only", async () => {
    const alice = await newUser("alice");
    expectError(await fromPage(t, "post", "/api/passkeys/registration/options", alice.cookie).send({ uid: "bob" }), 400, "VALIDATION_FAILED");
  });
});

describe("passkeys unavailable", () => {
  it("a page on an IP address gets 400 PASSKEYS_UNAVAILABLE in words before any ceremony starts", async () => {
    t = await makeTestApp();
    const alice = await newUser("alice");
    for (const path of ["/api/passkeys/registration/options", "/api/passkeys/authentication/options"]) {
      const res = await fromPage(t, "post", path, alice.cookie, "http://127.0.0.1:4100").send({});
      expectError(res, 400, "PASSKEYS_UNAVAILABLE");
      expect(res.body.message).toMatch(/IP address \(127\.0\.0\.1\).*host name.*Passkeys work on http:\/\/localhost:4100/);
      expect(res.body.data).toEqual({ rpId: "localhost", origins: ["http://localhost:4100"] });
    }
    expect(await t.sql(`SELECT * FROM "OneTimeToken"`)).toHaveLength(0);
    // Without an Origin (curl, Postman) there is no page to judge: the options come back.
    expect((await t.http().post("/api/passkeys/authentication/options").send({})).status).toBe(200);
  });

  it("a page that is not under the RP ID is told which pages can use passkeys", async () => {
    t = await makeTestApp({ ALLOWED_ORIGINS: "https://app.example.com,https://other.example.net", WEBAUTHN_RP_ID: "example.com" });
    const res = await fromPage(t, "post", "/api/passkeys/authentication/options", undefined, "https://other.example.net").send({});
    expectError(res, 400, "PASSKEYS_UNAVAILABLE");
    expect(res.body.message).toBe("Passkeys here belong to example.com, and this page (other.example.net) is neither example.com nor under it. Passkeys work on https://app.example.com.");
    expect((await fromPage(t, "post", "/api/passkeys/authentication/options", undefined, "https://app.example.com").send({})).body.rpId).toBe("example.com");
  });

  it("with no RP ID at all (every page on an IP address) every passkey route says passkeys are off", async () => {
    t = await makeTestApp({ ALLOWED_ORIGINS: "http://127.0.0.1:4100" });
    expect(t.config.webauthn.rpId).toBeNull();
    const alice = await newUser("alice");
    for (const origin of ["http://127.0.0.1:4100", undefined]) {
      for (const path of ["/api/passkeys/registration/options", "/api/passkeys/authentication/options"]) {
        const req = origin ? fromPage(t, "post", path, alice.cookie, origin) : t.http().post(path).set("Cookie", alice.cookie);
        const res = await req.send({});
        expectError(res, 400, "PASSKEYS_UNAVAILABLE");
        expect(res.body.message).toMatch(/^Passkeys are off on this server/);
      }
    }
    expectError(await t.http().post("/api/passkeys/registration").set("Cookie", alice.cookie).send({ response: {} }), 400, "PASSKEYS_UNAVAILABLE");
    // The list still answers (empty), and a sign-in attempt is the one refusal every failure gets.
    expect((await list(alice.cookie)).body).toEqual([]);
    expectError(await t.http().post("/api/authenticate/passkey").send({ response: {} }), 401, "INVALID_CREDENTIALS");
  });
});

describe("registration", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("stores the passkey (201 id, name, createdAt, backedUp) and logs passkey_added without the credential", async () => {
    const logs = captureLogs();
    await t.close();
    t = await makeTestApp({}, { logger: logs.logger });
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey({ backup: "backedUp" });
    const created = await registerPasskey(t, alice.cookie, passkey, "  Laptop  ");
    expect(Object.keys(created).sort()).toEqual(["backedUp", "createdAt", "id", "name"]);
    expect(created).toMatchObject({ name: "Laptop", backedUp: true });
    const listed = await list(alice.cookie);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([{ id: created.id, name: "Laptop", createdAt: created.createdAt, lastUsedAt: null, backedUp: true }]);
    const [row] = await passkeyRows();
    expect(row).toMatchObject({ userId: alice.id, name: "Laptop", deviceType: "multiDevice", rpId: "localhost" });
    expect(Number(row.counter)).toBe(0);
    // Unnamed passkeys are numbered.
    expect((await registerPasskey(t, alice.cookie, new SoftwarePasskey())).name).toBe("Passkey 2");
    const added = logs.events().filter((e) => e.event === "passkey_added");
    expect(added).toHaveLength(2);
    expect(added[0]).toMatchObject({ uid: "alice", passkeyId: created.id });
    expect(logs.lines()).not.toContain(passkey.credentialId);
  });

  it("refuses a response made on another origin, and the failed try has spent the challenge", async () => {
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey();
    const options = await creationOptions(alice.cookie);
    const wrong = await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response: passkey.register(options, { origin: "https://evil.example" }) });
    expectError(wrong, 400, "PASSKEY_INVALID");
    expect(JSON.stringify(wrong.body)).not.toContain("evil");
    const retry = await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response: passkey.register(options) });
    expectError(retry, 400, "CHALLENGE_INVALID");
    // The API's own origin is not a page origin either.
    const again = await creationOptions(alice.cookie);
    expectError(await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response: passkey.register(again, { origin: "http://localhost:8587" }) }), 400, "PASSKEY_INVALID");
    expect(await passkeyRows()).toHaveLength(0);
  });

  it("refuses a response for another RP ID, without user verification, or of the wrong type", async () => {
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey();
    for (const overrides of [{ rpId: "example.com" }, { flags: FLAGS.UP | FLAGS.AT }, { type: "webauthn.get" }]) {
      const options = await creationOptions(alice.cookie);
      const res = await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response: passkey.register(options, overrides) });
      expectError(res, 400, "PASSKEY_INVALID");
    }
    expect(await passkeyRows()).toHaveLength(0);
  });

  it("refuses a replayed, expired, unknown or another account's challenge with CHALLENGE_INVALID", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const passkey = new SoftwarePasskey();
    const options = await creationOptions(alice.cookie);
    const response = passkey.register(options);
    expect((await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response })).status).toBe(201);
    expectError(await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response }), 400, "CHALLENGE_INVALID");

    const bobs = await creationOptions(bob.cookie);
    expectError(await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response: new SoftwarePasskey().register(bobs) }), 400, "CHALLENGE_INVALID");

    const late = await creationOptions(alice.cookie);
    t.advance(301_000);
    expectError(await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response: new SoftwarePasskey().register(late) }), 400, "CHALLENGE_INVALID");

    const made = await creationOptions(alice.cookie);
    expectError(
      await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response: new SoftwarePasskey().register(made, { challenge: Buffer.alloc(32, 1).toString("base64url") }) }),
      400,
      "CHALLENGE_INVALID",
    );
    expect((await passkeyRows()).map((r) => r.userId)).toEqual([alice.id]);
  });

  it("refuses a credential id already registered, to another account or to this one", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const passkey = new SoftwarePasskey();
    await registerPasskey(t, alice.cookie, passkey);
    // Bob presents the same credential id (with a key of his own): it stays Alice's.
    const copy = new SoftwarePasskey({ credentialId: Buffer.from(passkey.credentialId, "base64url") });
    const res = await fromPage(t, "post", "/api/passkeys/registration", bob.cookie).send({ response: copy.register(await creationOptions(bob.cookie)) });
    expectError(res, 400, "PASSKEY_INVALID");
    expect(res.body).toMatchObject({ message: "This passkey is already registered to an account here", data: { reason: "already_registered" } });
    expectError(await fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send({ response: passkey.register(await creationOptions(alice.cookie)) }), 400, "PASSKEY_INVALID");
    expect((await passkeyRows()).map((r) => r.userId)).toEqual([alice.id]);
    expect((await list(bob.cookie)).body).toEqual([]);
  });

  it("refuses a malformed response as PASSKEY_INVALID, and unknown fields or a bad name as VALIDATION_FAILED", async () => {
    const alice = await newUser("alice");
    const post = (body: object) => fromPage(t, "post", "/api/passkeys/registration", alice.cookie).send(body);
    for (const response of [{}, "garbage", { id: "x", rawId: "x", type: "public-key", response: { clientDataJSON: "!!", attestationObject: "" }, clientExtensionResults: {} }]) {
      expectError(await post({ response }), 400, "PASSKEY_INVALID");
    }
    const options = await creationOptions(alice.cookie);
    expectError(await post({ response: new SoftwarePasskey().register(options), extra: 1 }), 400, "VALIDATION_FAILED");
    expectError(await post({ response: new SoftwarePasskey().register(options), name: "x".repeat(65) }), 400, "VALIDATION_FAILED");
    expectError(await post({ response: new SoftwarePasskey().register(options), name: "   " }), 400, "VALIDATION_FAILED");
    expectError(await t.http().post("/api/passkeys/registration").send({ response: {} }), 401, "TOKEN_MISSING");
  });
});

describe("sign-in", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("request options name no credential (discoverable) and require user verification", async () => {
    const options = await loginOptions(t);
    expect(options.rpId).toBe("localhost");
    expect(options.userVerification).toBe("required");
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(await tokenRows("webauthn_login")).toEqual([{ userId: null }]);
  });

  it("issues the same session cookie as a password login, and logs passkey_login", async () => {
    const logs = captureLogs();
    await t.close();
    t = await makeTestApp({}, { logger: logs.logger });
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey({ counter: 1 });
    const { id: passkeyId } = await registerPasskey(t, alice.cookie, passkey);
    const res = await signInWith(t, passkey);
    expect(res.status).toBe(200);
    expect(res.body.message).toBe("Authentication for alice successful");
    expect(res.body.user).toMatchObject({ id: alice.id, uid: "alice", mfaEnabled: false });
    expect(res.body.user).not.toHaveProperty("tokenVersion");
    const attributes = (r: { headers: Record<string, unknown> }) => (r.headers["set-cookie"] as unknown as string[]).find((c) => c.startsWith("__Host-jwt_token="))!.split(";").slice(1).map((a) => a.trim()).sort();
    const passwordLogin = await t.http().post("/api/authenticate").send({ uid: "alice", password: PASSWORD });
    expect(attributes(res)).toEqual(attributes(passwordLogin));
    const cookie = cookieOf(res);
    expect(cookie).not.toBe(alice.cookie);
    expect((await id(cookie)).body.uid).toBe("alice");

    const [listed] = (await list(cookie)).body;
    expect(listed.lastUsedAt).not.toBeNull();
    expect(Number((await passkeyRows())[0].counter)).toBe(2);
    expect(logs.events().find((e) => e.event === "passkey_login")).toMatchObject({ uid: "alice", passkeyId });
    expect(logs.events().find((e) => e.event === "login" && e.outcome === "success" && e.via === "passkey")).toMatchObject({ uid: "alice" });
    expect(logs.lines()).not.toContain(passkey.credentialId);
  });

  it("counts as both factors: an account with two-factor on signs in with no MFA step", async () => {
    const who = await enrolled(t, "carol");
    const passkey = new SoftwarePasskey();
    await registerPasskey(t, who.cookie, passkey);
    expectError(await t.http().post("/api/authenticate").send({ uid: "carol", password: "orbit-lantern-42" }), 401, "MFA_REQUIRED");
    const res = await signInWith(t, passkey);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ uid: "carol", mfaEnabled: true });
    expect((res.headers["set-cookie"] as unknown as string[]).some((c) => c.startsWith("__Host-mfa_challenge="))).toBe(false);
    expect((await id(cookieOf(res))).status).toBe(200);
  });

  it("answers every failure with one 401 INVALID_CREDENTIALS body", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const passkey = new SoftwarePasskey({ counter: 5 });
    await registerPasskey(t, alice.cookie, passkey);
    const bobsPasskey = new SoftwarePasskey();
    await registerPasskey(t, bob.cookie, bobsPasskey);
    const signIn = (response: unknown) => fromPage(t, "post", "/api/authenticate/passkey").send({ response });

    const refusals: Record<string, { status: number; body: unknown }> = {};
    refusals["unknown credential"] = await signInWith(t, new SoftwarePasskey(), { userHandle: passkey.userHandle });
    refusals["wrong origin"] = await signInWith(t, passkey, { origin: "https://evil.example" });
    refusals["the API's origin"] = await signInWith(t, passkey, { origin: "http://localhost:8587" });
    refusals["wrong RP ID"] = await signInWith(t, passkey, { rpId: "example.com" });
    refusals["user not verified"] = await signInWith(t, passkey, { flags: FLAGS.UP });
    refusals["registration type"] = await signInWith(t, passkey, { type: "webauthn.create" });
    refusals["another account's user handle"] = await signInWith(t, passkey, { userHandle: bobsPasskey.userHandle });
    refusals["no user handle"] = await signInWith(t, passkey, { userHandle: null });
    const options = await loginOptions(t);
    const forged = passkey.authenticate(options);
    forged.response.signature = bobsPasskey.authenticate(options).response.signature;
    refusals["bad signature"] = await signIn(forged);
    refusals["unknown challenge"] = await signIn(passkey.authenticate({ challenge: Buffer.alloc(32, 2).toString("base64url") }));
    const stale = await loginOptions(t);
    t.advance(301_000);
    refusals["expired challenge"] = await signIn(passkey.authenticate(stale));
    refusals["garbage"] = await signIn("garbage");
    refusals["empty body"] = await fromPage(t, "post", "/api/authenticate/passkey").send({});
    refusals["unknown field"] = await fromPage(t, "post", "/api/authenticate/passkey").send({ response: passkey.authenticate(await loginOptions(t)), uid: "alice" });

    const reference = refusals["unknown credential"];
    expectError(reference, 401, "INVALID_CREDENTIALS");
    for (const [what, res] of Object.entries(refusals)) {
      expect({ what, status: res.status, body: res.body }).toEqual({ what, status: 401, body: reference.body });
    }
    // None of them signed in, moved the counter or marked the passkey used.
    expect(Object.values(refusals).some((r) => (r as { headers?: Record<string, unknown> }).headers?.["set-cookie"])).toBe(false);
    expect((await list(alice.cookie)).body[0].lastUsedAt).toBeNull();
    expect((await signInWith(t, passkey)).status).toBe(200);
  });

  it("refuses a replayed response: the challenge was spent by the first sign-in", async () => {
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey();
    await registerPasskey(t, alice.cookie, passkey);
    const response = passkey.authenticate(await loginOptions(t));
    const send = () => fromPage(t, "post", "/api/authenticate/passkey").send({ response });
    expect((await send()).status).toBe(200);
    expectError(await send(), 401, "INVALID_CREDENTIALS");
  });

  it("gives exactly one session to N parallel uses of one response", async () => {
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey();
    await registerPasskey(t, alice.cookie, passkey);
    const response = passkey.authenticate(await loginOptions(t));
    const results = await Promise.all(Array.from({ length: 6 }, () => fromPage(t, "post", "/api/authenticate/passkey").send({ response })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
  });

  it("refuses a signature counter that goes backwards or stands still, and keeps the stored one", async () => {
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey({ counter: 10 });
    await registerPasskey(t, alice.cookie, passkey);
    expect((await signInWith(t, passkey)).status).toBe(200); // 11
    expectError(await signInWith(t, passkey, { counter: 5 }), 401, "INVALID_CREDENTIALS");
    expectError(await signInWith(t, passkey, { counter: 11 }), 401, "INVALID_CREDENTIALS");
    expectError(await signInWith(t, passkey, { counter: 0 }), 401, "INVALID_CREDENTIALS");
    expect(Number((await passkeyRows())[0].counter)).toBe(11);
    expect((await signInWith(t, passkey, { counter: 4_000_000_000 })).status).toBe(200); // unsigned 32-bit
    expect(Number((await passkeyRows())[0].counter)).toBe(4_000_000_000);
  });

  it("lets a synced passkey (counter always 0) sign in again and again, and stores its backup state", async () => {
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey({ counter: 0, backup: "eligible" });
    await registerPasskey(t, alice.cookie, passkey);
    expect((await list(alice.cookie)).body[0].backedUp).toBe(false);
    expect((await signInWith(t, passkey)).status).toBe(200);
    // Backed up since: the new state is stored.
    expect((await signInWith(t, passkey, { flags: FLAGS.UP | FLAGS.UV | FLAGS.BE | FLAGS.BS })).status).toBe(200);
    expect((await list(alice.cookie)).body[0].backedUp).toBe(true);
    // Backup eligibility cannot change for a credential: a response without it is not this passkey.
    expectError(await signInWith(t, passkey, { flags: FLAGS.UP | FLAGS.UV }), 401, "INVALID_CREDENTIALS");
  });

  it("sees a deleted account at once", async () => {
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey();
    await registerPasskey(t, alice.cookie, passkey);
    const admin = await loginAs(t, "admin", "password");
    expect((await t.http().delete("/api/user/alice").set("Cookie", admin).send()).status).toBe(204);
    expectError(await signInWith(t, passkey), 401, "INVALID_CREDENTIALS");
  });

  it("is limited per IP like logins (options and sign-in)", async () => {
    await t.close();
    t = await makeTestApp({ RATE_LIMIT_LOGIN_PER_IP: "3" });
    for (let i = 0; i < 3; i++) expect((await fromPage(t, "post", "/api/passkeys/authentication/options").send({})).status).toBe(200);
    const limited = await fromPage(t, "post", "/api/passkeys/authentication/options").send({});
    expectError(limited, 429, "RATE_LIMITED");
    expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
    expectError(await fromPage(t, "post", "/api/authenticate/passkey").send({ response: {} }), 429, "RATE_LIMITED");
  });
});

describe("the account's passkeys", () => {
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it("lists only the account's own, renames one, and refuses bad names", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const mine = await registerPasskey(t, alice.cookie, new SoftwarePasskey(), "Phone");
    await registerPasskey(t, bob.cookie, new SoftwarePasskey(), "Bob's key");
    expect((await list(alice.cookie)).body.map((p: { name: string }) => p.name)).toEqual(["Phone"]);
    expectError(await t.http().get("/api/passkeys"), 401, "TOKEN_MISSING");

    const renamed = await fromPage(t, "put", `/api/passkeys/${mine.id}`, alice.cookie).send({ name: " Work phone " });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: mine.id, name: "Work phone", backedUp: false });
    expect((await list(alice.cookie)).body[0].name).toBe("Work phone");
    expectError(await fromPage(t, "put", `/api/passkeys/${mine.id}`, alice.cookie).send({ name: "" }), 400, "VALIDATION_FAILED");
    expectError(await fromPage(t, "put", `/api/passkeys/${mine.id}`, alice.cookie).send({}), 400, "VALIDATION_FAILED");
    expectError(await fromPage(t, "put", `/api/passkeys/${mine.id}`, alice.cookie).send({ name: "x", extra: true }), 400, "VALIDATION_FAILED");
  });

  it("answers 404 for someone else's passkey and for unknown ids, and changes nothing", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const bobs = await registerPasskey(t, bob.cookie, new SoftwarePasskey(), "Bob's key");
    for (const target of [String(bobs.id), "999999", "abc", "0", "1e3", "99999999999999999999"]) {
      expectError(await fromPage(t, "put", `/api/passkeys/${target}`, alice.cookie).send({ name: "Mine now" }), 404, "NOT_FOUND");
      expectError(await fromPage(t, "delete", `/api/passkeys/${target}`, alice.cookie).send(), 404, "NOT_FOUND");
    }
    expect((await list(bob.cookie)).body).toEqual([expect.objectContaining({ id: bobs.id, name: "Bob's key" })]);
  });

  it("removes one (204, passkey_removed logged); it signs in no more", async () => {
    const logs = captureLogs();
    await t.close();
    t = await makeTestApp({}, { logger: logs.logger });
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey();
    const { id: passkeyId } = await registerPasskey(t, alice.cookie, passkey);
    const res = await fromPage(t, "delete", `/api/passkeys/${passkeyId}`, alice.cookie).send();
    expect(res.status).toBe(204);
    expect((await list(alice.cookie)).body).toEqual([]);
    expect(logs.events().find((e) => e.event === "passkey_removed")).toMatchObject({ uid: "alice", passkeyId });
    expectError(await signInWith(t, passkey), 401, "INVALID_CREDENTIALS");
    expectError(await fromPage(t, "delete", `/api/passkeys/${passkeyId}`, alice.cookie).send(), 404, "NOT_FOUND");
  });

  it("refuses to remove the last way to sign in (409 LAST_LOGIN_METHOD), also for two parallel deletes", async () => {
    const alice = await newUser("alice");
    const first = await registerPasskey(t, alice.cookie, new SoftwarePasskey());
    const second = await registerPasskey(t, alice.cookie, new SoftwarePasskey());
    // With a password, every passkey may go.
    expect((await fromPage(t, "delete", `/api/passkeys/${first.id}`, alice.cookie).send()).status).toBe(204);
    const third = await registerPasskey(t, alice.cookie, new SoftwarePasskey());
    // Without a password (an account made by GitHub, say), the last passkey stays.
    await withoutPassword(alice.id);
    const results = await Promise.all([second.id, third.id].map((pk) => fromPage(t, "delete", `/api/passkeys/${pk}`, alice.cookie).send()));
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
    expectError(results.find((r) => r.status === 409)!, 409, "LAST_LOGIN_METHOD");
    expect((await list(alice.cookie)).body).toHaveLength(1);
    const [left] = (await list(alice.cookie)).body;
    expectError(await fromPage(t, "delete", `/api/passkeys/${left.id}`, alice.cookie).send(), 409, "LAST_LOGIN_METHOD");
    expect(await t.app.services.users.loginMethods(alice.id)).toEqual({ password: false, passkeys: 1, github: false });
  });

  it("removes a passkey of a password-less account that has GitHub linked", async () => {
    const alice = await newUser("alice");
    const only = await registerPasskey(t, alice.cookie, new SoftwarePasskey());
    await withoutPassword(alice.id);
    await t.app.services.db.prisma.oAuthAccount.create({ data: { provider: "github", providerUserId: "4242", userId: alice.id, login: "alice" } });
    expect((await fromPage(t, "delete", `/api/passkeys/${only.id}`, alice.cookie).send()).status).toBe(204);
  });
});

describe("a passkey sign-in from a page", () => {
  it("works end to end with the session it gives (profile, security list)", async () => {
    t = await makeTestApp();
    const alice = await newUser("alice");
    const passkey = new SoftwarePasskey();
    await registerPasskey(t, alice.cookie, passkey);
    const res = await signInWith(t, passkey);
    const cookie = sessionCookieOf(res);
    expect((await list(cookie)).body).toHaveLength(1);
    expect(res.headers["access-control-allow-origin"]).toBe(PAGE_ORIGIN);
    expect(res.headers["access-control-allow-credentials"]).toBe("true");
  });
});

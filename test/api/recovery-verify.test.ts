// E-mail verification (docs/recovery.md), and the admin's part of recovery: a link proves an address once, a
// new address is unproven and its old links die, and an admin can mark an address verified or send a reset.
import { expectError, loginAs, signup, type TestApp } from "./helpers";
import { linkOf } from "./support/mail-catcher";
import { accountWithEmail, makeMailApp, PASSWORD, pastMailCooldown, resetMailTo, settle, verifyMailTo, type MailApp } from "./support/recovery";

let app: MailApp;
let t: TestApp;
beforeEach(async () => {
  app = await makeMailApp();
  t = app.t;
});
afterEach(() => app.close());

const verify = (token: unknown) => t.http().post("/api/email/verify").send({ token });
const me = (cookie: string) => t.http().get("/api/id").set("Cookie", cookie);

async function verificationToken(address: string, after = 0): Promise<string> {
  const mail = await app.mail.waitForMail((m) => app.mail.inbox.indexOf(m) >= after && verifyMailTo(address)(m), `with a verification link to ${address}`);
  expect(`${linkOf(mail).link.origin}${linkOf(mail).link.pathname}`).toBe("http://localhost:4100/verify-email.html");
  return linkOf(mail).token;
}

describe("verification links", () => {
  it("signup with an address mails a link; the link verifies it once and answers the <user>", async () => {
    const res = await t.http().post("/api/user").send({ uid: "alice", name: "Alice", password: PASSWORD, email: "alice@example.com" });
    expect(res.status).toBe(201);
    expect(res.body.emailVerified).toBe(false);
    const token = await verificationToken("alice@example.com");
    const mail = app.mail.inbox[0];
    expect(mail.text).toContain('GitHub ID "alice"');
    expect(mail.text).toMatch(/did not sign up or add this address/);

    const verified = await verify(token);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ uid: "alice", email: "alice@example.com", emailVerified: true });
    expect(Object.keys(verified.body)).not.toContain("passwordHash");
    expectError(await verify(token), 400, "VERIFY_TOKEN_INVALID");
    expect((await me(await loginAs(t, "alice", PASSWORD))).body.emailVerified).toBe(true);
  });

  it("signup without an address sends nothing", async () => {
    await signup(t, "bob");
    await settle(t);
    expect(app.mail.inbox).toHaveLength(0);
  });

  it("refuses unknown, expired and malformed links, and reset links", async () => {
    const alice = await accountWithEmail(t, "alice", "alice@example.com");
    const tokens = t.app.services.oneTimeTokens;
    const expiring = await tokens.issue("email_verify", { userId: alice.id, data: { email: "alice@example.com" }, ttlSeconds: 60 });
    const resetLink = await tokens.issue("password_reset", { userId: alice.id, data: { email: "alice@example.com" }, ttlSeconds: 600 });
    t.advance(61_000);
    for (const token of [expiring, resetLink, "B".repeat(43), "short"]) expectError(await verify(token), 400, "VERIFY_TOKEN_INVALID");
    expectError(await t.http().post("/api/email/verify").send({}), 400, "VALIDATION_FAILED");
    expect((await me(await loginAs(t, "alice", PASSWORD))).body.emailVerified).toBe(false);
  });

  it("a new address is unverified, its old link dies, and a link goes to the new address", async () => {
    await accountWithEmail(t, "alice", "alice@example.com");
    const cookie = await loginAs(t, "alice", PASSWORD);
    expect((await t.http().post("/api/email/verification").set("Cookie", cookie)).status).toBe(202);
    const oldLink = await verificationToken("alice@example.com");
    const alice = (await me(cookie)).body;
    await pastMailCooldown(t, alice.id);

    const changed = await t.http().put("/api/user").set("Cookie", cookie).send({ email: "alice@new.example.com", currentPassword: PASSWORD });
    expect(changed.status).toBe(200);
    expect(changed.body.emailVerified).toBe(false);
    const newLink = await verificationToken("alice@new.example.com");
    expectError(await verify(oldLink), 400, "VERIFY_TOKEN_INVALID");
    expect((await verify(newLink)).body).toMatchObject({ email: "alice@new.example.com", emailVerified: true });

    // Changing a verified address makes it unverified again.
    await pastMailCooldown(t, alice.id);
    const again = await t.http().put("/api/user").set("Cookie", cookie).send({ email: "alice@third.example.com", currentPassword: PASSWORD });
    expect(again.body.emailVerified).toBe(false);
    await verificationToken("alice@third.example.com");
    // A name change leaves the address and its state alone, and sends nothing.
    const before = app.mail.inbox.length;
    expect((await t.http().put("/api/user").set("Cookie", cookie).send({ name: "Alice A." })).status).toBe(200);
    await settle(t);
    expect(app.mail.inbox).toHaveLength(before);
  });
});

describe("POST /api/email/verification", () => {
  it("sends a link to the signed-in account's address (202)", async () => {
    await accountWithEmail(t, "alice", "alice@example.com");
    const cookie = await loginAs(t, "alice", PASSWORD);
    const res = await t.http().post("/api/email/verification").set("Cookie", cookie);
    expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: { message: "Verification mail sent" } });
    expect((await verify(await verificationToken("alice@example.com"))).status).toBe(200);
  });

  it("answers 409 EMAIL_ALREADY_VERIFIED, 400 EMAIL_MISSING, 401 without a session", async () => {
    const alice = await accountWithEmail(t, "alice", "alice@example.com");
    await t.app.services.users.updateById(alice.id, { emailVerified: true });
    expectError(await t.http().post("/api/email/verification").set("Cookie", await loginAs(t, "alice", PASSWORD)), 409, "EMAIL_ALREADY_VERIFIED");
    await accountWithEmail(t, "bob", null);
    expectError(await t.http().post("/api/email/verification").set("Cookie", await loginAs(t, "bob", PASSWORD)), 400, "EMAIL_MISSING");
    expectError(await t.http().post("/api/email/verification"), 401, "TOKEN_MISSING");
    await settle(t);
    expect(app.mail.inbox).toHaveLength(0);
  });
});

describe("admin", () => {
  let admin: string;
  beforeEach(async () => {
    admin = await loginAs(t, "admin", "password");
  });

  it("PUT /api/user/:uid {emailVerified: true} marks the address verified; without an address 400 EMAIL_MISSING", async () => {
    await accountWithEmail(t, "alice", "alice@example.com");
    const res = await t.http().put("/api/user/alice").set("Cookie", admin).send({ emailVerified: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ uid: "alice", emailVerified: true });
    expect((await me(await loginAs(t, "alice", PASSWORD))).body.emailVerified).toBe(true);

    await accountWithEmail(t, "bob", null);
    expectError(await t.http().put("/api/user/bob").set("Cookie", admin).send({ emailVerified: true }), 400, "EMAIL_MISSING");
    expectError(await t.http().put("/api/user/alice").set("Cookie", admin).send({ emailVerified: false }), 400, "VALIDATION_FAILED");
    // A new address given with it is the one marked.
    const both = await t.http().put("/api/user/bob").set("Cookie", admin).send({ email: "bob@example.com", emailVerified: true });
    expect(both.body).toMatchObject({ email: "bob@example.com", emailVerified: true });
    // Users cannot mark their own address.
    const alice = await loginAs(t, "alice", PASSWORD);
    expectError(await t.http().put("/api/user").set("Cookie", alice).send({ emailVerified: true }), 400, "VALIDATION_FAILED");
    expectError(await t.http().put("/api/user/alice").set("Cookie", alice).send({ emailVerified: true }), 403, "FORBIDDEN_ROLE");
  });

  it("POST /api/user/:uid/password-reset mails a reset link (202); limits apply; 404, 400 EMAIL_MISSING, 403", async () => {
    const alice = await accountWithEmail(t, "alice", "alice@example.com");
    const res = await t.http().post("/api/user/alice/password-reset").set("Cookie", admin);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ sent: true, message: expect.stringContaining("alice") });
    const mail = await app.mail.waitForMail(resetMailTo("alice@example.com"), "to alice");
    expect(mail.text).toContain('GitHub ID "alice"');
    const again = await t.http().post("/api/user/alice/password-reset").set("Cookie", admin);
    expect({ status: again.status, sent: again.body.sent }).toEqual({ status: 202, sent: false });
    await pastMailCooldown(t, alice.id);
    expect((await t.http().post("/api/user/alice/password-reset").set("Cookie", admin)).body.sent).toBe(true);
    await settle(t);
    expect(app.mail.inbox.filter(resetMailTo("alice@example.com"))).toHaveLength(2);

    expectError(await t.http().post("/api/user/ghost/password-reset").set("Cookie", admin), 404, "USER_NOT_FOUND");
    await accountWithEmail(t, "bob", null);
    expectError(await t.http().post("/api/user/bob/password-reset").set("Cookie", admin), 400, "EMAIL_MISSING");
    expectError(await t.http().post("/api/user/alice/password-reset").set("Cookie", await loginAs(t, "alice", PASSWORD)), 403, "FORBIDDEN_ROLE");
    expectError(await t.http().post("/api/user/alice/password-reset"), 401, "TOKEN_MISSING");
  });
});

// Sign in with GitHub (docs/github.md › Accounts): which account a GitHub user reaches (the five rules), linking
// from a signed-in session with a one-time ticket, and unlinking — against the fake GitHub on loopback.
import { expectError, loginAs, makeTestApp, userCount, type TestApp } from "./helpers";
import {
  exchangeRequest,
  type FakeGitHub,
  githubEnv,
  githubFlow,
  githubProfile,
  linkGitHub,
  PAGE,
  PUBLIC_API_URL,
  signInWithGitHub,
  startFakeGitHub,
} from "./support/github";

const PASSWORD = "orbit-lantern-42";

let t: TestApp;
let fake: FakeGitHub;
beforeEach(async () => {
  fake = await startFakeGitHub();
});
afterEach(async () => {
  await t?.close();
  await fake?.close();
});

const prisma = () => t.app.services.db.prisma;
const links = () => prisma().oAuthAccount.findMany({ select: { providerUserId: true, userId: true, login: true }, orderBy: { userId: "asc" } });

async function localAccount(uid: string, { email, verified = false }: { email?: string; verified?: boolean } = {}) {
  const user = await t.app.services.users.create({ uid, name: `Name of ${uid}`, password: PASSWORD, email });
  if (verified) await t.app.services.users.updateById(user.id, { emailVerified: true });
  return user;
}

async function loginAsLocal(uid: string) {
  return loginAs(t, uid, PASSWORD);
}

describe("which account a GitHub user reaches", () => {
  beforeEach(async () => {
    t = await makeTestApp(githubEnv(fake));
  });

  it("(5) makes a new account: uid = login, GitHub's name, its verified primary address, no password", async () => {
    const { body, cookie } = await signInWithGitHub(t);
    expect(body.user).toMatchObject({ uid: "octocat", name: "The Octocat", email: "octocat@users.example", emailVerified: true, role: "User", mfaEnabled: false });
    const [row] = await t.sql<{ passwordHash: string | null; emailKey: string }>(`SELECT "passwordHash", "emailKey" FROM "User" WHERE "uidKey" = 'octocat'`);
    expect(row).toEqual({ passwordHash: null, emailKey: "octocat@users.example" });
    expect(await links()).toEqual([{ providerUserId: "1001", userId: body.user.id, login: "octocat" }]);
    expect(await t.app.services.users.loginMethods(body.user.id)).toEqual({ password: false, passkeys: 0, github: true });
    // No password means no password login, whatever is typed.
    expectError(await t.http().post("/api/authenticate").send({ uid: "octocat", password: "anything-at-all" }), 401, "INVALID_CREDENTIALS");
    expect((await t.http().get("/api/id").set("Cookie", cookie)).status).toBe(200);
  });

  it("(5) names the account after the login when GitHub has no display name", async () => {
    fake.profile = githubProfile({ id: 7, login: "no-name", name: null });
    const { body } = await signInWithGitHub(t);
    expect(body.user).toMatchObject({ uid: "no-name", name: "no-name" });
  });

  it("(5) refuses with OAUTH_EMAIL_UNVERIFIED when GitHub reports no verified primary address", async () => {
    for (const emails of [
      [{ email: "a@users.example", primary: true, verified: false }],
      [{ email: "b@users.example", primary: false, verified: true }, { email: "c@users.example", primary: true, verified: false }],
      [],
    ]) {
      fake.profile = githubProfile({ id: 8, login: "unverified", emails });
      const flow = await githubFlow(t);
      expect(flow.location).toBe(`${PAGE}#error=OAUTH_EMAIL_UNVERIFIED`);
    }
    expect(await userCount(t, `"uidKey" = ?`, ["unverified"])).toBe(0);
    expect(await links()).toEqual([]);
  });

  it("(5) refuses with SIGNUP_DISABLED when signup is off, and makes nothing", async () => {
    await t.close();
    t = await makeTestApp(githubEnv(fake, { SIGNUP_ENABLED: "false" }));
    const before = await userCount(t);
    const flow = await githubFlow(t);
    expect(flow.location).toBe(`${PAGE}#error=SIGNUP_DISABLED`);
    expect(await userCount(t)).toBe(before);
    expect(await links()).toEqual([]);
  });

  it("(1) signs a linked GitHub id in by its number, and follows a renamed login", async () => {
    const first = await signInWithGitHub(t);
    fake.profile = githubProfile({ id: 1001, login: "octocat-renamed", name: "Renamed" });
    const again = await signInWithGitHub(t);
    expect(again.body.user.id).toBe(first.body.user.id);
    expect(again.body.user.uid).toBe("octocat"); // the account keeps its uid
    expect(await links()).toEqual([{ providerUserId: "1001", userId: first.body.user.id, login: "octocat-renamed" }]);
  });

  it("(1) never by login: another GitHub id that took over a linked login does not reach that account", async () => {
    await signInWithGitHub(t);
    // Someone else now holds the login "octocat" on GitHub (a different numeric id).
    fake.profile = githubProfile({ id: 2002, login: "octocat" });
    const flow = await githubFlow(t);
    expect(flow.location).toBe(`${PAGE}#error=OAUTH_ACCOUNT_EXISTS`);
    expect((await links()).map((l) => l.providerUserId)).toEqual(["1001"]);
  });

  it("(3) does not take over a local account whose uid is the GitHub login, in any case", async () => {
    const local = await localAccount("OctoCat", { email: "octocat@users.example", verified: true });
    const flow = await githubFlow(t);
    expect(flow.location).toBe(`${PAGE}#error=OAUTH_ACCOUNT_EXISTS`);
    expect(await links()).toEqual([]);
    expect(await userCount(t, `"uidKey" = ?`, ["octocat"])).toBe(1);
    // Its owner can still log in with the password, and link GitHub from there.
    const cookie = await loginAsLocal("OctoCat");
    expect((await linkGitHub(t, cookie, PASSWORD)).location).toBe(`${PAGE}#linked=github`);
    expect((await signInWithGitHub(t)).body.user.id).toBe(local.id);
  });

  describe("(4) with OAUTH_LINK_BY_VERIFIED_EMAIL=true", () => {
    beforeEach(async () => {
      await t.close();
      t = await makeTestApp(githubEnv(fake, { OAUTH_LINK_BY_VERIFIED_EMAIL: "true" }));
    });

    it("links the one local account whose verified address is GitHub's verified primary one", async () => {
      const local = await localAccount("ada", { email: "Octocat@Users.Example", verified: true });
      const { body } = await signInWithGitHub(t);
      expect(body.user).toMatchObject({ id: local.id, uid: "ada" });
      expect(await links()).toEqual([{ providerUserId: "1001", userId: local.id, login: "octocat" }]);
    });

    it("does not link an account whose address is not verified: a new account is made", async () => {
      const local = await localAccount("ada", { email: "octocat@users.example", verified: false });
      const { body } = await signInWithGitHub(t);
      expect(body.user.id).not.toBe(local.id);
      expect(body.user.uid).toBe("octocat");
    });

    it("does not link when two accounts share the address: a new account is made", async () => {
      const a = await localAccount("ada", { email: "octocat@users.example", verified: true });
      const b = await localAccount("bob", { email: "octocat@users.example", verified: true });
      const { body } = await signInWithGitHub(t);
      expect([a.id, b.id]).not.toContain(body.user.id);
    });

    it("does not link by an address GitHub has not verified", async () => {
      await localAccount("ada", { email: "octocat@users.example", verified: true });
      fake.profile = githubProfile({ emails: [{ email: "octocat@users.example", primary: true, verified: false }] });
      const flow = await githubFlow(t);
      expect(flow.location).toBe(`${PAGE}#error=OAUTH_EMAIL_UNVERIFIED`);
      expect(await links()).toEqual([]);
    });
  });

  it("(4) is off by default: a verified match is not linked", async () => {
    const local = await localAccount("ada", { email: "octocat@users.example", verified: true });
    const { body } = await signInWithGitHub(t);
    expect(body.user.id).not.toBe(local.id);
  });

  it("gives one account to two parallel first sign-ins of one GitHub user", async () => {
    const flows = await Promise.all([githubFlow(t), githubFlow(t)]);
    const exchanged = await Promise.all(flows.map((f) => exchangeRequest(t, { code: f.fragment.code, nonce: f.nonce })));
    expect(exchanged.map((r) => r.status)).toEqual([200, 200]);
    expect(exchanged[0].body.user.id).toBe(exchanged[1].body.user.id);
    expect(await userCount(t, `"uidKey" = ?`, ["octocat"])).toBe(1);
  });
});

describe("linking from a signed-in session", () => {
  beforeEach(async () => {
    t = await makeTestApp(githubEnv(fake));
  });

  it("hands out a start URL with a one-time ticket, and the flow links GitHub: #linked=github", async () => {
    const local = await localAccount("ada");
    const cookie = await loginAsLocal("ada");
    const res = await t.http().post("/api/oauth/github/link").set("Cookie", cookie).send({ returnTo: PAGE, currentPassword: PASSWORD });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["url"]);
    const url = new URL(res.body.url);
    expect(url.origin + url.pathname).toBe(`${PUBLIC_API_URL}/api/oauth/github/start`);
    expect(url.searchParams.get("return_to")).toBe(PAGE);
    const ticket = url.searchParams.get("ticket") as string;
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const flow = await githubFlow(t, { ticket });
    expect(flow.location).toBe(`${PAGE}#linked=github`);
    expect(await links()).toEqual([{ providerUserId: "1001", userId: local.id, login: "octocat" }]);
    const status = await t.http().get("/api/oauth/github").set("Cookie", cookie);
    expect(status.body).toEqual({ available: true, linked: true, login: "octocat", linkedAt: expect.any(String), hasPassword: true });
    // From now on GitHub signs in to this account.
    expect((await signInWithGitHub(t)).body.user.id).toBe(local.id);
  });

  it("needs a session, an allowed returnTo and the current password", async () => {
    await localAccount("ada");
    const cookie = await loginAsLocal("ada");
    const link = (body: object, c: string | null = cookie) => {
      const req = t.http().post("/api/oauth/github/link");
      return (c ? req.set("Cookie", c) : req).send(body);
    };
    expectError(await link({ returnTo: PAGE, currentPassword: PASSWORD }, null), 401, "TOKEN_MISSING");
    expectError(await link({ returnTo: "https://evil.example/oauth-callback.html", currentPassword: PASSWORD }), 400, "REDIRECT_NOT_ALLOWED");
    expectError(await link({ returnTo: "//evil.example/", currentPassword: PASSWORD }), 400, "REDIRECT_NOT_ALLOWED");
    const missing = await link({ returnTo: PAGE });
    expectError(missing, 400, "VALIDATION_FAILED");
    expect(missing.body.data).toEqual([{ field: "currentPassword", message: expect.stringMatching(/required/) }]);
    const wrong = await link({ returnTo: PAGE, currentPassword: "not-my-password" });
    expectError(wrong, 400, "VALIDATION_FAILED");
    expect(wrong.body.data).toEqual([{ field: "currentPassword", message: "is incorrect" }]);
    expectError(await link({ returnTo: PAGE, currentPassword: PASSWORD, extra: 1 }), 400, "VALIDATION_FAILED");
    const [{ n }] = await t.sql<{ n: number }>(`SELECT CAST(count(*) AS INTEGER) AS n FROM "OneTimeToken" WHERE "purpose" = 'oauth_link'`);
    expect(n).toBe(0);
  });

  it("lets an account without a password link with a recent sign-in only (REAUTH_REQUIRED after 10 minutes)", async () => {
    // A passwordless account with a passkey (no GitHub yet).
    const user = await prisma().user.create({ data: { uid: "keyholder", uidKey: "keyholder", name: "Key Holder", passwordHash: null }, select: { id: true } });
    await addPasskey(user.id);
    const session = t.app.services.tokens.sign({ id: user.id, tokenVersion: 0 }).token;
    const cookie = `__Host-jwt_token=${session}`;
    expect((await t.http().post("/api/oauth/github/link").set("Cookie", cookie).send({ returnTo: PAGE })).status).toBe(200);
    t.advance(11 * 60_000);
    expectError(await t.http().post("/api/oauth/github/link").set("Cookie", cookie).send({ returnTo: PAGE }), 401, "REAUTH_REQUIRED");
  });

  it("refuses a GitHub account linked to another account here: #error=OAUTH_ACCOUNT_EXISTS, nothing changes", async () => {
    const owner = await signInWithGitHub(t);
    await localAccount("ada");
    const flow = await linkGitHub(t, await loginAsLocal("ada"), PASSWORD);
    expect(flow.location).toBe(`${PAGE}#error=OAUTH_ACCOUNT_EXISTS`);
    expect(await links()).toEqual([{ providerUserId: "1001", userId: owner.body.user.id, login: "octocat" }]);
  });

  it("refuses to start a second link while one GitHub account is linked (409 OAUTH_ACCOUNT_EXISTS)", async () => {
    await localAccount("ada");
    const cookie = await loginAsLocal("ada");
    await linkGitHub(t, cookie, PASSWORD);
    const res = await t.http().post("/api/oauth/github/link").set("Cookie", cookie).send({ returnTo: PAGE, currentPassword: PASSWORD });
    expectError(res, 409, "OAUTH_ACCOUNT_EXISTS");
    expect(res.body.message).toMatch(/@octocat/);
  });

  it("spends the ticket at start: a second use goes back to the page with #error=OAUTH_STATE_INVALID", async () => {
    await localAccount("ada");
    const cookie = await loginAsLocal("ada");
    const res = await t.http().post("/api/oauth/github/link").set("Cookie", cookie).send({ returnTo: PAGE, currentPassword: PASSWORD });
    const ticket = new URL(res.body.url).searchParams.get("ticket") as string;
    const first = await githubFlow(t, { ticket });
    expect(first.location).toBe(`${PAGE}#linked=github`);
    await prisma().oAuthAccount.deleteMany({});
    const started = await t.http().get(`/api/oauth/github/start?${new URLSearchParams({ return_to: PAGE, nonce_hash: "A".repeat(43), ticket })}`);
    expect(started.status).toBe(302);
    expect(started.headers.location).toBe(`${PAGE}#error=OAUTH_STATE_INVALID`);
    expect(started.headers["set-cookie"]).toBeUndefined();
  });

  it("drops a link whose account ended its sessions in between (logout everywhere)", async () => {
    await localAccount("ada");
    const cookie = await loginAsLocal("ada");
    const res = await t.http().post("/api/oauth/github/link").set("Cookie", cookie).send({ returnTo: PAGE, currentPassword: PASSWORD });
    const ticket = new URL(res.body.url).searchParams.get("ticket") as string;
    expect((await t.http().delete("/api/authenticate?all=true").set("Cookie", cookie)).status).toBe(200);
    const flow = await githubFlow(t, { ticket });
    expect(flow.location).toBe(`${PAGE}#error=OAUTH_STATE_INVALID`);
    expect(await links()).toEqual([]);
  });
});

async function addPasskey(userId: number) {
  await prisma().passkey.create({
    data: { credentialId: `cred-${userId}`, userId, publicKey: Buffer.from([1, 2, 3]), counter: BigInt(0), deviceType: "multiDevice", backedUp: true, rpId: "localhost", name: "Laptop" },
  });
}

describe("unlinking", () => {
  beforeEach(async () => {
    t = await makeTestApp(githubEnv(fake));
  });

  const unlink = (cookie: string | null) => {
    const req = t.http().delete("/api/oauth/github");
    return cookie ? req.set("Cookie", cookie) : req;
  };

  it("needs a session", async () => {
    expectError(await unlink(null), 401, "TOKEN_MISSING");
  });

  it("refuses to remove the last way to sign in (409 LAST_LOGIN_METHOD), and keeps the link", async () => {
    const { cookie, body } = await signInWithGitHub(t);
    expectError(await unlink(cookie), 409, "LAST_LOGIN_METHOD");
    expect(await links()).toEqual([{ providerUserId: "1001", userId: body.user.id, login: "octocat" }]);
  });

  it("removes the link of an account that keeps its password; GitHub then no longer reaches it", async () => {
    const local = await localAccount("ada");
    const cookie = await loginAsLocal("ada");
    await linkGitHub(t, cookie, PASSWORD);
    const res = await unlink(cookie);
    expect(res.status).toBe(204);
    expect(await links()).toEqual([]);
    expect((await t.http().get("/api/oauth/github").set("Cookie", cookie)).body).toMatchObject({ linked: false, login: null });
    // The next GitHub sign-in makes a new account of its own.
    const { body } = await signInWithGitHub(t);
    expect(body.user.id).not.toBe(local.id);
    // Unlinking with no link is a no-op.
    expect((await unlink(cookie)).status).toBe(204);
  });

  it("removes the link of a GitHub-made account that has a passkey", async () => {
    const { cookie, body } = await signInWithGitHub(t);
    await addPasskey(body.user.id);
    expect((await unlink(cookie)).status).toBe(204);
    expect(await links()).toEqual([]);
  });
});

describe("GET /api/oauth/github", () => {
  it("tells the security page whether GitHub is available and linked, and whether the account has a password", async () => {
    t = await makeTestApp();
    const cookie = await loginAs(t, "user");
    expectError(await t.http().get("/api/oauth/github"), 401, "TOKEN_MISSING");
    const res = await t.http().get("/api/oauth/github").set("Cookie", cookie);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ available: false, linked: false, login: null, linkedAt: null, hasPassword: true });
  });
});

// Sign in with GitHub (docs/github.md), the flow: start, the callback, the page's exchange — against a fake GitHub
// on loopback that checks the client, the redirect_uri and the PKCE verifier, with the refusals of each step.
import { captureLogs, expectError, makeTestApp, sessionCookieOf, type TestApp } from "./helpers";
import { codeAt, enrolled, secondStep } from "./support/two-factor";
import {
  authorize,
  CALLBACK_URL,
  callbackRequest,
  exchangeRequest,
  type FakeGitHub,
  fragmentOf,
  githubEnv,
  githubFlow,
  newNonce,
  PAGE,
  PUBLIC_API_URL,
  setCookies,
  signInWithGitHub,
  startFakeGitHub,
  startRequest,
  stateCookieOf,
  STATE_COOKIE,
} from "./support/github";

let t: TestApp;
let fake: FakeGitHub;
beforeEach(async () => {
  fake = await startFakeGitHub();
});
afterEach(async () => {
  await t?.close();
  await fake?.close();
});

const countTokens = async (purpose: string) => (await t.sql<{ n: number }>(`SELECT CAST(count(*) AS INTEGER) AS n FROM "OneTimeToken" WHERE "purpose" = ?`, [purpose]))[0].n;
const id = (cookie: string) => t.http().get("/api/id").set("Cookie", cookie);

describe("when GitHub sign-in is not configured", () => {
  it("says so on /api/oauth/providers and answers 404 NOT_FOUND on start, callback and link", async () => {
    t = await makeTestApp();
    const providers = await t.http().get("/api/oauth/providers");
    expect(providers.status).toBe(200);
    expect(providers.body).toEqual({ github: false, githubStartUrl: null });
    const { nonceHash } = newNonce();
    expectError(await startRequest(t, { return_to: PAGE, nonce_hash: nonceHash }), 404, "NOT_FOUND");
    expectError(await t.http().get("/api/oauth/github/callback?code=x&state=y"), 404, "NOT_FOUND");
    const login = await t.http().post("/api/authenticate").send({ uid: "user", password: "password" });
    expectError(await t.http().post("/api/oauth/github/link").set("Cookie", sessionCookieOf(login)).send({ returnTo: PAGE }), 404, "NOT_FOUND");
  });
});

describe("start", () => {
  beforeEach(async () => {
    t = await makeTestApp(githubEnv(fake));
  });

  it("announces GitHub and where to start on /api/oauth/providers", async () => {
    const res = await t.http().get("/api/oauth/providers");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ github: true, githubStartUrl: `${PUBLIC_API_URL}/api/oauth/github/start` });
  });

  it("redirects to GitHub with state, an S256 challenge, the scopes and the exact redirect_uri, and sets the state cookie", async () => {
    const { nonceHash } = newNonce();
    const res = await startRequest(t, { return_to: PAGE, nonce_hash: nonceHash });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location);
    expect(location.origin + location.pathname).toBe(`${fake.url}/login/oauth/authorize`);
    const q = Object.fromEntries(location.searchParams);
    expect(Object.keys(q).sort()).toEqual(["client_id", "code_challenge", "code_challenge_method", "redirect_uri", "response_type", "scope", "state"]);
    expect(q).toMatchObject({ client_id: fake.clientId, redirect_uri: CALLBACK_URL, response_type: "code", code_challenge_method: "S256", scope: "read:user user:email" });
    expect(q.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const cookies = setCookies(res);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toBe(`${STATE_COOKIE}=${q.state}; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax`);
    // The state is stored hashed, with the verifier, the page and the nonce hash: nothing the callback's query could change.
    const rows = await t.sql<{ tokenHash: string; data: string; userId: number | null }>(`SELECT "tokenHash", "data", "userId" FROM "OneTimeToken" WHERE "purpose" = 'oauth_state'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].tokenHash).not.toContain(q.state);
    const data = JSON.parse(rows[0].data);
    expect(data).toEqual({ verifier: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), returnTo: PAGE, nonceHash, link: null });
    expect(res.headers.location).not.toContain(data.verifier);
    // The fake accepts it: client, redirect_uri and challenge are what GitHub wants.
    const back = await authorize(res.headers.location);
    expect(back.origin + back.pathname).toBe(CALLBACK_URL);
    expect(back.searchParams.get("state")).toBe(q.state);
  });

  it.each([
    ["a page on another origin", "https://evil.example/oauth-callback.html"],
    ["a scheme-relative address", "//evil.example/oauth-callback.html"],
    ["a javascript: URL", "javascript:alert(document.cookie)"],
    ["a relative path", "/oauth-callback.html"],
    ["credentials before the host", "http://localhost:4100@evil.example/oauth-callback.html"],
    ["a backslash trick", "http://evil.example\\@localhost:4100/"],
    ["the right host with another scheme", "https://localhost:4100/oauth-callback.html"],
    ["the right host on another port", "http://localhost:4101/oauth-callback.html"],
    ["nothing", ""],
  ])("refuses %s as return_to with 400 REDIRECT_NOT_ALLOWED, no state and no cookie", async (_what, returnTo) => {
    const { nonceHash } = newNonce();
    const res = await startRequest(t, { return_to: returnTo, nonce_hash: nonceHash });
    expectError(res, 400, "REDIRECT_NOT_ALLOWED");
    expect(setCookies(res)).toEqual([]);
    expect(await countTokens("oauth_state")).toBe(0);
  });

  it("refuses a return_to given twice, and a missing or malformed nonce_hash", async () => {
    const { nonceHash } = newNonce();
    expectError(await t.http().get(`/api/oauth/github/start?return_to=${encodeURIComponent(PAGE)}&return_to=${encodeURIComponent(PAGE)}&nonce_hash=${nonceHash}`), 400, "REDIRECT_NOT_ALLOWED");
    const missing = await startRequest(t, { return_to: PAGE });
    expectError(missing, 400, "VALIDATION_FAILED");
    expect(missing.body.data).toEqual([{ field: "nonce_hash", message: expect.stringMatching(/SHA-256/) }]);
    expectError(await startRequest(t, { return_to: PAGE, nonce_hash: "short" }), 400, "VALIDATION_FAILED");
    expect(await countTokens("oauth_state")).toBe(0);
  });

  it("keeps a return_to's query but drops its fragment (the outcome goes there)", async () => {
    const { nonceHash } = newNonce();
    const res = await startRequest(t, { return_to: `${PAGE}?from=login#old`, nonce_hash: nonceHash });
    expect(res.status).toBe(302);
    const [row] = await t.sql<{ data: string }>(`SELECT "data" FROM "OneTimeToken" WHERE "purpose" = 'oauth_state'`);
    expect(JSON.parse(row.data).returnTo).toBe(`${PAGE}?from=login`);
  });

  it("counts against the per-IP login limit", async () => {
    await t.close();
    t = await makeTestApp(githubEnv(fake, { RATE_LIMIT_LOGIN_PER_IP: "2" }));
    const { nonceHash } = newNonce();
    expect((await startRequest(t, { return_to: PAGE, nonce_hash: nonceHash })).status).toBe(302);
    expect((await startRequest(t, { return_to: PAGE, nonce_hash: nonceHash })).status).toBe(302);
    const limited = await startRequest(t, { return_to: PAGE, nonce_hash: nonceHash });
    expectError(limited, 429, "RATE_LIMITED");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
  });
});

describe("callback", () => {
  beforeEach(async () => {
    t = await makeTestApp(githubEnv(fake));
  });

  /** start and GitHub's approval: the state, the browser's cookie, and where GitHub sent it back. */
  async function approved() {
    const { nonce, nonceHash } = newNonce();
    const started = await startRequest(t, { return_to: PAGE, nonce_hash: nonceHash });
    const state = new URL(started.headers.location).searchParams.get("state") as string;
    return { nonce, state, cookie: stateCookieOf(started), back: await authorize(started.headers.location) };
  }

  it("answers JSON 400 OAUTH_STATE_INVALID without a state, or with one that is unknown", async () => {
    expectError(await t.http().get("/api/oauth/github/callback"), 400, "OAUTH_STATE_INVALID");
    expectError(await t.http().get("/api/oauth/github/callback?code=abc"), 400, "OAUTH_STATE_INVALID");
    const unknown = "A".repeat(43);
    expectError(await t.http().get(`/api/oauth/github/callback?code=abc&state=${unknown}`).set("Cookie", `${STATE_COOKIE}=${unknown}`), 400, "OAUTH_STATE_INVALID");
    expect(fake.requests.filter((r) => r.path === "/login/oauth/access_token")).toHaveLength(0);
  });

  it("sends the page #error=OAUTH_STATE_INVALID when the browser has no state cookie, and the state is spent", async () => {
    const { back, cookie } = await approved();
    const res = await callbackRequest(t, back);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${PAGE}#error=OAUTH_STATE_INVALID`);
    expect(setCookies(res).some((c) => c.startsWith("__Host-jwt_token="))).toBe(false);
    // Nothing was asked of GitHub, and the state cannot be tried again, even with its cookie.
    expect(fake.requests.filter((r) => r.path === "/login/oauth/access_token")).toHaveLength(0);
    expectError(await callbackRequest(t, back, cookie), 400, "OAUTH_STATE_INVALID");
  });

  it("refuses a state cookie of another flow (a link carrying someone else's state)", async () => {
    const mine = await approved();
    const theirs = await approved();
    const res = await callbackRequest(t, theirs.back, mine.cookie);
    expect(res.headers.location).toBe(`${PAGE}#error=OAUTH_STATE_INVALID`);
    // The refused cookie is left alone: the flow it belongs to can still finish.
    expect(setCookies(res)).toEqual([]);
    const own = await callbackRequest(t, mine.back, mine.cookie);
    expect(fragmentOf(own.headers.location)).toEqual({ code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  });

  it("spends the state: the same callback twice is refused", async () => {
    const { back, cookie } = await approved();
    const first = await callbackRequest(t, back, cookie);
    expect(Object.keys(fragmentOf(first.headers.location))).toEqual(["code"]);
    // The state cookie is cleared once it served.
    expect(setCookies(first)).toEqual([`${STATE_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`]);
    expectError(await callbackRequest(t, back, cookie), 400, "OAUTH_STATE_INVALID");
  });

  it("sends #error=OAUTH_DENIED when the person cancels at GitHub", async () => {
    fake.deny = true;
    const { back, cookie } = await approved();
    expect(back.searchParams.get("error")).toBe("access_denied");
    const res = await callbackRequest(t, back, cookie);
    expect(res.headers.location).toBe(`${PAGE}#error=OAUTH_DENIED`);
    expect(fake.requests.filter((r) => r.path === "/login/oauth/access_token")).toHaveLength(0);
  });

  it("exchanges the code with the PKCE verifier, which the fake checks against the challenge", async () => {
    const { back, cookie } = await approved();
    const res = await callbackRequest(t, back, cookie);
    expect(Object.keys(fragmentOf(res.headers.location))).toEqual(["code"]);
    const [token] = fake.requests.filter((r) => r.path === "/login/oauth/access_token");
    expect(token.form).toEqual({ grant_type: "authorization_code", code: back.searchParams.get("code"), redirect_uri: CALLBACK_URL, code_verifier: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(token.headers.authorization).toBe(`Basic ${Buffer.from(`${fake.clientId}:${fake.clientSecret}`).toString("base64")}`);
    for (const path of ["/user", "/user/emails"]) {
      const [call] = fake.requests.filter((r) => r.path === path);
      expect(call.headers).toMatchObject({ accept: "application/vnd.github+json", "user-agent": "crossauth", authorization: expect.stringMatching(/^Bearer gho_/) });
    }
  });

  it("sends #error=OAUTH_FAILED when the code was obtained for another flow (its verifier does not match)", async () => {
    const first = await approved();
    const second = await approved();
    // The second flow's state and cookie, with the code GitHub gave the first: PKCE fails at the token endpoint.
    const crossed = new URL(second.back);
    crossed.searchParams.set("code", first.back.searchParams.get("code") as string);
    const res = await callbackRequest(t, crossed, second.cookie);
    expect(res.headers.location).toBe(`${PAGE}#error=OAUTH_FAILED`);
    expect(fake.requests.filter((r) => r.path === "/user")).toHaveLength(0);
  });

  it("sends #error=OAUTH_FAILED for a GitHub code used before", async () => {
    const first = await approved();
    await callbackRequest(t, first.back, first.cookie);
    const second = await approved();
    const reused = new URL(second.back);
    reused.searchParams.set("code", first.back.searchParams.get("code") as string);
    expect((await callbackRequest(t, reused, second.cookie)).headers.location).toBe(`${PAGE}#error=OAUTH_FAILED`);
  });

  it("treats GitHub's 200 with an error field as a failure, never a 500", async () => {
    fake.tokenError = true;
    const { back, cookie } = await approved();
    const res = await callbackRequest(t, back, cookie);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${PAGE}#error=OAUTH_FAILED`);
    expect(await countTokens("oauth_login")).toBe(0);
  });

  it("sends #error=OAUTH_FAILED when GitHub's API fails", async () => {
    fake.failApi = true;
    const { back, cookie } = await approved();
    expect((await callbackRequest(t, back, cookie)).headers.location).toBe(`${PAGE}#error=OAUTH_FAILED`);
  });

  it("sends #error=OAUTH_FAILED when GitHub cannot be reached", async () => {
    await t.close();
    const gone = await startFakeGitHub();
    await gone.close(); // its port now refuses connections
    t = await makeTestApp(githubEnv({ ...fake, url: gone.url }));
    const { nonceHash } = newNonce();
    const started = await startRequest(t, { return_to: PAGE, nonce_hash: nonceHash });
    const state = new URL(started.headers.location).searchParams.get("state") as string;
    const res = await callbackRequest(t, new URL(`${CALLBACK_URL}?code=somecode&state=${state}`), stateCookieOf(started));
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${PAGE}#error=OAUTH_FAILED`);
  });

  it("gives up on a token request that does not answer within 10 s", async () => {
    fake.hangToken = true;
    const { back, cookie } = await approved();
    const started = Date.now();
    const res = await callbackRequest(t, back, cookie);
    const waited = Date.now() - started;
    expect(res.headers.location).toBe(`${PAGE}#error=OAUTH_FAILED`);
    expect(waited).toBeGreaterThanOrEqual(9_900);
    expect(waited).toBeLessThan(25_000);
  }, 40_000);

  it("sets no session cookie: the page gets a one-time code after #", async () => {
    const { back, cookie } = await approved();
    const res = await callbackRequest(t, back, cookie);
    expect(setCookies(res).filter((c) => !c.startsWith(`${STATE_COOKIE}=`))).toEqual([]);
    const code = fragmentOf(res.headers.location).code;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await t.sql<{ data: string }>(`SELECT "data" FROM "OneTimeToken" WHERE "purpose" = 'oauth_login'`);
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0].data)).toEqual({ nonceHash: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  });
});

describe("exchange", () => {
  beforeEach(async () => {
    t = await makeTestApp(githubEnv(fake));
  });

  it("signs the page in: the session cookie on this response, the login body, and GET /api/id works", async () => {
    const flow = await githubFlow(t);
    const res = await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Authentication for octocat successful", user: expect.objectContaining({ uid: "octocat", name: "The Octocat", email: "octocat@users.example", emailVerified: true, mfaEnabled: false }) });
    const session = setCookies(res).find((c) => c.startsWith("__Host-jwt_token="));
    expect(session).toMatch(/^__Host-jwt_token=[^;]+; Max-Age=3600; Path=\/; HttpOnly; Secure; Partitioned; SameSite=None$/);
    const me = await id(sessionCookieOf(res));
    expect(me.status).toBe(200);
    expect(me.body.uid).toBe("octocat");
  });

  it("needs the page's Origin: without one 403 ORIGIN_NOT_ALLOWED, and the code is not spent", async () => {
    const flow = await githubFlow(t);
    const res = await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce }, null);
    expectError(res, 403, "ORIGIN_NOT_ALLOWED");
    expect(setCookies(res)).toEqual([]);
    expectError(await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce }, "https://evil.example"), 403, "ORIGIN_NOT_ALLOWED");
    expect((await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce })).status).toBe(200);
  });

  it("refuses another page's nonce with 400 LOGIN_CODE_INVALID, and the code is then spent", async () => {
    const flow = await githubFlow(t);
    const res = await exchangeRequest(t, { code: flow.fragment.code, nonce: newNonce().nonce });
    expectError(res, 400, "LOGIN_CODE_INVALID");
    expect(setCookies(res)).toEqual([]);
    expectError(await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce }), 400, "LOGIN_CODE_INVALID");
  });

  it("spends the code: a second exchange is refused", async () => {
    const flow = await githubFlow(t);
    expect((await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce })).status).toBe(200);
    expectError(await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce }), 400, "LOGIN_CODE_INVALID");
  });

  it("takes a code for 60 s, then refuses it; refuses an unknown code and a malformed body", async () => {
    const fresh = await githubFlow(t);
    t.advance(58_000);
    expect((await exchangeRequest(t, { code: fresh.fragment.code, nonce: fresh.nonce })).status).toBe(200);
    const flow = await githubFlow(t);
    t.advance(61_000);
    expectError(await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce }), 400, "LOGIN_CODE_INVALID");
    expectError(await exchangeRequest(t, { code: "B".repeat(43), nonce: flow.nonce }), 400, "LOGIN_CODE_INVALID");
    expectError(await exchangeRequest(t, { code: flow.fragment.code }), 400, "VALIDATION_FAILED");
    expectError(await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce, uid: "admin" }), 400, "VALIDATION_FAILED");
  });

  it("gives exactly one session for parallel exchanges of one code", async () => {
    const flow = await githubFlow(t);
    const results = await Promise.all(Array.from({ length: 8 }, () => exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 400, 400, 400, 400, 400, 400, 400]);
    for (const r of results.filter((r) => r.status === 400)) expect(r.body.code).toBe("LOGIN_CODE_INVALID");
  });

  it("ends in 401 MFA_REQUIRED for an account with two-factor on, and the second step completes the sign-in", async () => {
    const who = await enrolled(t, "mfa-user");
    await t.app.services.db.prisma.oAuthAccount.create({ data: { provider: "github", providerUserId: String(fake.profile.user.id), userId: who.id, login: "octocat" } });
    const flow = await githubFlow(t);
    const res = await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce });
    expectError(res, 401, "MFA_REQUIRED");
    const cookies = setCookies(res);
    expect(cookies.some((c) => c.startsWith("__Host-jwt_token="))).toBe(false);
    const challenge = cookies.find((c) => c.startsWith("__Host-mfa_challenge="));
    expect(challenge).toMatch(/; HttpOnly; Secure; Partitioned; SameSite=None$/);
    const done = await secondStep(t, (challenge as string).split(";")[0], { code: codeAt(t, who.uri) });
    expect(done.status).toBe(200);
    expect(done.body.user.uid).toBe("mfa-user");
  });
});

describe("logs", () => {
  it("record oauth_login and the sign-in, and never a code, state, nonce, token or query string", async () => {
    const logs = captureLogs();
    t = await makeTestApp(githubEnv(fake), { logger: logs.logger });
    const { cookie, flow } = await signInWithGitHub(t);
    // And a refused callback: its query (code, state) must not be logged either.
    const denied = await githubFlow(t);
    const text = logs.lines();
    const events = logs.events();
    expect(events).toContainEqual(expect.objectContaining({ event: "oauth_login", outcome: "code_issued", uid: "octocat", github: "octocat", rule: "created" }));
    expect(events).toContainEqual(expect.objectContaining({ event: "login", outcome: "success", uid: "octocat", via: "github" }));
    const githubCode = fake.requests.find((r) => r.path === "/login/oauth/access_token")?.form.code as string;
    const accessToken = fake.requests.find((r) => r.path === "/user")?.headers.authorization?.replace("Bearer ", "") as string;
    const verifier = fake.requests.find((r) => r.path === "/login/oauth/access_token")?.form.code_verifier as string;
    for (const secret of [flow.state, flow.fragment.code, flow.nonce, githubCode, accessToken, verifier, cookie.split("=")[1], denied.state, denied.fragment.code]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(text).not.toContain(secret);
    }
    for (const line of events.filter((e) => e.msg === "request")) expect(String(line.path)).not.toMatch(/[?#]/);
    expect(text).not.toContain("code=");
    expect(text).not.toContain("state=");
  });
});

// Browser tests of Sign in with GitHub (docs/github.md): the whole redirect chain page → API → fake GitHub → API →
// page, from a same-site page (localhost → localhost) and a cross-site one (127.0.0.1 → localhost), where only a
// session cookie set on the page's own exchange — partitioned under the page's site — can work. Also linking from
// the security page, the two-factor step after GitHub, and failures put in plain words.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { afterEach, describe, test } from "node:test";
import * as OTPAuth from "otpauth";
import { freePort } from "../lib/api-process.mjs";
import { own, suiteTimeLeft } from "../lib/suite.mjs";
import { checkPages, expectPartitionedCookie, expectProfile, httpTopology, inspect, launchBrowser, logIn, open, startE2eApi, startFrontend, TEST_TIMEOUT_MS, waitForCode, waitForText } from "./harness.mjs";

const { startFakeGitHub, githubProfile } = createRequire(import.meta.url)("../lib/fake-github.cjs");

const PASSWORD = "orbit-lantern-42";

/**
 * A fake GitHub, the API on localhost pointed at it (PUBLIC_API_URL = the API's own address, as GitHub's redirect
 * must be exact), and the frontend on `pageHost`.
 */
async function githubTopology(t, { pageHost }) {
  const fake = await startFakeGitHub({ profile: githubProfile({ id: 4242, login: "octocat", name: "Mona Lisa Octocat", email: "mona@users.example" }) });
  own(t, () => fake.close());
  const apiPort = await freePort();
  const apiBase = `http://localhost:${apiPort}`;
  fake.redirectUri = `${apiBase}/api/oauth/github/callback`;
  const frontendPort = await startFrontend(t, { apiUrl: apiBase });
  const base = `http://${pageHost}:${frontendPort}`;
  await startE2eApi(t, {
    port: apiPort,
    origins: [base],
    env: {
      GITHUB_CLIENT_ID: fake.clientId,
      GITHUB_CLIENT_SECRET: fake.clientSecret,
      GITHUB_OAUTH_BASE_URL: fake.url,
      GITHUB_API_BASE_URL: fake.url,
      PUBLIC_API_URL: apiBase,
    },
  });
  return { fake, base, apiBase };
}

/** Every top-level request of the page (redirects included) with the Location it was answered with. */
function recordNavigations(page) {
  const seen = [];
  page.on("response", (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) seen.push({ url: new URL(request.url()), location: response.headers().location ?? null });
  });
  return seen;
}

/** A request from the page itself, with its cookies (credentials: "include"), as the pages make them. */
function fromPage(page, apiBase, method, path, body) {
  return page.evaluate(
    async ({ url, method, body }) => {
      const res = await fetch(url, { method, credentials: "include", headers: { "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
    { url: `${apiBase}${path}`, method, body },
  );
}

async function signInWithGitHub(page, base, screenshot = null) {
  await open(page, base, "login.html");
  const button = page.getByRole("button", { name: "Sign in with GitHub" });
  await button.waitFor({ state: "visible" });
  if (screenshot) await inspect(page, screenshot);
  await button.click();
}

describe("github", { timeout: suiteTimeLeft() }, () => {
  afterEach(checkPages);

  for (const { name, pageHost, site } of [
    { name: "same-site (localhost → localhost)", pageHost: "localhost", site: "http://localhost" },
    { name: "cross-site (127.0.0.1 → localhost)", pageHost: "127.0.0.1", site: "http://127.0.0.1" },
  ]) {
    test(`${name}: Sign in with GitHub makes an account and signs the page in, the cookie in the page's partition`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { fake, base, apiBase } = await githubTopology(t, { pageHost });
      const { context, page } = await launchBrowser(t, { name: `github-${pageHost}` });
      const navigations = recordNavigations(page);

      await signInWithGitHub(page, base, `login-github-${pageHost}`);
      await expectProfile(page, "octocat", "after Sign in with GitHub");
      await waitForText(page.locator("#detail-name"), /^Mona Lisa Octocat$/, "name from GitHub");
      await waitForText(page.locator("#detail-email"), /^mona@users\.example$/, "email from GitHub");

      // The chain went page → API start → GitHub → API callback → the page's callback, with the code after #.
      const chain = navigations.filter((n) => n.url.pathname !== "/login.html").slice(0, 4);
      assert.deepEqual(
        chain.map((n) => n.url.origin + n.url.pathname),
        [`${apiBase}/api/oauth/github/start`, `${fake.url}/login/oauth/authorize`, `${apiBase}/api/oauth/github/callback`, `${base}/oauth-callback.html`],
      );
      const redirect = chain[2].location ?? "";
      assert(redirect.startsWith(`${base}/oauth-callback.html#`), `the callback's redirect: ${redirect}`);
      assert.match(new URL(redirect).hash, /^#code=[A-Za-z0-9_-]{43}$/);
      assert.equal(new URL(page.url()).hash, "", "the profile's address carries nothing after #");
      // The fake checked the PKCE verifier: it answered a token.
      const token = fake.requests.find((r) => r.path === "/login/oauth/access_token");
      assert.match(token?.form.code_verifier ?? "", /^[A-Za-z0-9_-]{43}$/);

      // The session works from the page, and its cookie lives in the page's partition; the state cookie is gone.
      const me = await fromPage(page, apiBase, "GET", "/api/id");
      assert.equal(me.status, 200, `GET /api/id from the page: ${JSON.stringify(me)}`);
      assert.equal(me.body.uid, "octocat");
      await expectPartitionedCookie(context, apiBase, site);
      const stateCookies = (await context.cookies(apiBase)).filter((c) => c.name === "__Host-oauth_state");
      assert.deepEqual(stateCookies, [], "the state cookie is cleared after the callback");
    });
  }

  test("cross-site: the security page links GitHub to a password account, which then signs in with it, and unlinks it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base, apiBase } = await githubTopology(t, { pageHost: "127.0.0.1" });
    const created = await fetch(`${apiBase}/api/user`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ uid: "mona", name: "Mona", password: PASSWORD }) });
    assert.equal(created.status, 201);
    const { page } = await launchBrowser(t, { name: "github-link" });

    await logIn(page, base, "mona", PASSWORD);
    await expectProfile(page, "mona", "password login");
    await open(page, base, "security.html");
    const panel = page.locator("#github-panel");
    await page.locator("#github-current-password").waitFor({ state: "visible" });
    await inspect(page, "security-github-unlinked");
    // A wrong password is said in words, and nothing leaves the page.
    await page.locator("#github-current-password").fill("not-my-password");
    await page.getByRole("button", { name: "Link GitHub" }).click();
    const wrong = await waitForCode(page, "github-link-message", "VALIDATION_FAILED", "wrong current password");
    assert.match(wrong, /Current password is incorrect/);
    assert.match(page.url(), /\/security\.html$/);

    await page.locator("#github-current-password").fill(PASSWORD);
    await page.getByRole("button", { name: "Link GitHub" }).click();
    await page.waitForURL(/\/oauth-callback\.html$/);
    await waitForText(page.locator("#oauth-message"), /GitHub \(@octocat\) is now linked to your account/, "linked note");
    await inspect(page, "oauth-callback-linked");
    await page.getByRole("link", { name: "Back to the Security page" }).click();
    await waitForText(panel, /Linked to GitHub as @octocat/, "security page after linking");
    await inspect(page, "security-github-linked");

    // Log out, then sign in with GitHub: the same account.
    await fromPage(page, apiBase, "DELETE", "/api/authenticate");
    await signInWithGitHub(page, base);
    await expectProfile(page, "mona", "Sign in with GitHub after linking");

    await open(page, base, "security.html");
    await page.getByRole("button", { name: "Unlink GitHub" }).click();
    await waitForText(page.locator("#github-link-message"), /no longer linked/, "unlinked note");
    await page.locator("#github-current-password").waitFor({ state: "visible" });
  });

  test("cross-site: an account with two-factor on finishes a GitHub sign-in with its second factor", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base, apiBase } = await githubTopology(t, { pageHost: "127.0.0.1" });
    const { page } = await launchBrowser(t, { name: "github-mfa" });
    await signInWithGitHub(page, base);
    await expectProfile(page, "octocat", "first GitHub sign-in");
    // Turn two-factor on from the page (a fresh GitHub sign-in stands in for the password this account has not).
    const setup = await fromPage(page, apiBase, "POST", "/api/mfa/totp/setup", {});
    assert.equal(setup.status, 200, JSON.stringify(setup.body));
    const totp = OTPAuth.URI.parse(setup.body.otpauthUri);
    const confirm = await fromPage(page, apiBase, "POST", "/api/mfa/totp/confirm", { code: totp.generate() });
    assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
    await fromPage(page, apiBase, "DELETE", "/api/authenticate");

    await signInWithGitHub(page, base);
    await page.waitForURL(/\/oauth-callback\.html$/);
    await page.locator("#mfa-code").waitFor({ state: "visible" });
    await inspect(page, "oauth-callback-mfa");
    assert.equal((await fromPage(page, apiBase, "GET", "/api/id")).status, 401, "no session before the second factor");
    // A recovery code: the TOTP step just used at confirmation would be refused as a replay.
    await page.getByRole("link", { name: "Use a recovery code instead" }).click();
    await page.locator("#mfa-code").fill(confirm.body.recoveryCodes[0]);
    await page.getByRole("button", { name: "Verify" }).click();
    await expectProfile(page, "octocat", "after the second factor");
  });

  test("the login page shows no GitHub button when the API has GitHub sign-in off", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base } = await httpTopology(t, { pageHost: "127.0.0.1", apiHost: "localhost" });
    const { page } = await launchBrowser(t, { name: "github-off" });
    const answered = page.waitForResponse((response) => response.url().endsWith("/api/oauth/providers"));
    await open(page, base, "login.html");
    assert.deepEqual(await (await answered).json(), { github: false, githubStartUrl: null });
    await page.locator('#other-sign-ins[data-github="off"]').waitFor({ state: "attached" });
    assert.equal(await page.locator("#github-sign-in").count(), 0, "no Sign in with GitHub button");
  });

  test("failures read in plain words: cancelled at GitHub, and a code this tab did not ask for", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { fake, base } = await githubTopology(t, { pageHost: "127.0.0.1" });
    const { page } = await launchBrowser(t, { name: "github-errors" });

    fake.deny = true;
    await signInWithGitHub(page, base);
    await page.waitForURL(/\/oauth-callback\.html$/);
    const denied = await waitForCode(page, "oauth-message", "OAUTH_DENIED", "cancelled at GitHub");
    assert.match(denied, /You cancelled at GitHub/);
    assert.equal(new URL(page.url()).hash, "", "the error is taken out of the address bar");
    await inspect(page, "oauth-callback-denied");
    assert.equal(await page.getByRole("link", { name: "Back to the login page" }).getAttribute("href"), "login.html");

    // A forged link with a code (someone else's sign-in) opened in a fresh tab: no nonce here, nothing happens.
    fake.deny = false;
    const other = await page.context().newPage();
    await other.goto(`${base}/oauth-callback.html#code=${"A".repeat(43)}`, { waitUntil: "load" });
    const forged = await waitForCode(other, "oauth-message", "OAUTH_NONCE_MISSING", "a code without this tab's nonce");
    assert.match(forged, /started in another tab or window/);
    assert.equal(new URL(other.url()).hash, "");
    await other.close();
  });
});

// Browser tests of account recovery (docs/recovery.md): a forgotten password reset through the pages with the
// link read from a mail caught by a real SMTP server, and an email address verified likewise. Opening a link
// does nothing by itself (mail scanners open links): only pressing the page's button does.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { afterEach, describe, test } from "node:test";
import { own, suiteTimeLeft } from "../lib/suite.mjs";
import { checkPages, expectProfile, httpTopology, inspect, launchBrowser, logIn, open, TEST_TIMEOUT_MS, waitForCode, waitForText } from "./harness.mjs";

const { startMailCatcher, linkOf } = createRequire(import.meta.url)("../lib/mail-catcher.cjs");

const PASSWORD = "orbit-lantern-42";
const NEW_PASSWORD = "violet-harbor-77";

/** A mail catcher released when the test ends, and the API environment that sends to it. */
async function mailCatcher(t) {
  const catcher = await startMailCatcher();
  own(t, () => catcher.close());
  return { catcher, env: { MAIL_TRANSPORT: "smtp", SMTP_URL: catcher.url } };
}

async function api(apiBase, method, path, { body, cookie } = {}) {
  const headers = { ...(body ? { "Content-Type": "application/json" } : {}), ...(cookie ? { Cookie: cookie } : {}) };
  const res = await fetch(`${apiBase}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(10_000) });
  const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]);
  return { status: res.status, body: await res.json().catch(() => null), cookie: cookies.find((c) => c.startsWith("__Host-jwt_token=")) };
}

/** Opens a mailed link as a mail client would: a fresh page load (not a fragment change of the page shown). */
async function openLink(page, link) {
  await page.goto("about:blank");
  await page.goto(link.href, { waitUntil: "load" });
}

/** The page's address holds no token, and its token-free parts are what the link had. */
async function expectTokenGone(page, link, what) {
  const url = new URL(page.url());
  assert.equal(url.hash, "", `${what}: the token should be gone from the address bar (${page.url()})`);
  assert.equal(`${url.origin}${url.pathname}`, `${link.origin}${link.pathname}`, `${what}: still on the linked page`);
  const inHistory = await page.evaluate(() => location.href);
  assert(!/token/.test(inHistory), `${what}: location.href still holds the token: ${inHistory}`);
}

describe("recovery", { timeout: suiteTimeLeft() }, () => {
  afterEach(checkPages);

  test("a forgotten password is reset through the pages with the mailed link (cross-site: 127.0.0.1 → localhost)", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { catcher, env } = await mailCatcher(t);
    const { base, apiBase } = await httpTopology(t, { pageHost: "127.0.0.1", apiHost: "localhost", env });
    // An account with an address, given by an admin (which sends no verification mail).
    assert.equal((await api(apiBase, "POST", "/api/user", { body: { uid: "grace", name: "Grace Hopper", password: PASSWORD } })).status, 201);
    const admin = await api(apiBase, "POST", "/api/authenticate", { body: { uid: "admin", password: "password" } });
    assert.equal((await api(apiBase, "PUT", "/api/user/grace", { body: { email: "grace@example.com" }, cookie: admin.cookie })).status, 200);
    const { page } = await launchBrowser(t, { name: "reset" });

    // Ask for a link from the login page's "Forgot password?".
    await open(page, base, "login.html");
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await page.waitForURL(/\/reset-password\.html$/);
    await inspect(page, "reset-password-request");
    await page.getByLabel("Email or GitHub ID").fill("grace@example.com");
    await page.getByRole("button", { name: "Send reset link" }).click();
    await waitForText(page.locator("#forgot-message"), /If an account matches, we have sent it a reset link/, "forgot answer");

    const mail = await catcher.waitForMail((m) => m.to === "grace@example.com" && /reset/i.test(m.subject), "with grace's reset link");
    assert.match(mail.text, /GitHub ID "grace"/);
    const { link } = linkOf(mail);
    assert.equal(`${link.origin}${link.pathname}`, `${base}/reset-password.html`, "the link leads to the frontend's page");

    // Opening the link changes nothing: the token leaves the address bar, the old password still works.
    await openLink(page, link);
    await waitForText(page.locator("#choose-heading"), /Choose a new password/, "reset form");
    await expectTokenGone(page, link, "reset page");
    assert.equal(await page.locator("#request-section").isHidden(), true, "the request form is hidden while a link is open");
    assert.equal((await api(apiBase, "POST", "/api/authenticate", { body: { uid: "grace", password: PASSWORD } })).status, 200, "opening the link changed the password");
    await inspect(page, "reset-password-choose");

    // Different repeats are caught in the page; then the button sets the password.
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password").fill("something-else-1");
    await page.getByRole("button", { name: "Set new password" }).click();
    await waitForCode(page, "reset-message", "PASSWORD_MISMATCH", "different repeats");
    await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set new password" }).click();
    await waitForText(page.locator("#reset-message"), /Your password was changed/, "reset done");
    await inspect(page, "reset-password-done");
    assert.equal((await api(apiBase, "POST", "/api/authenticate", { body: { uid: "grace", password: PASSWORD } })).status, 401, "the old password still works");

    // The link works once: opened again, it says so in plain words and offers a new one.
    await openLink(page, link);
    await expectTokenGone(page, link, "reset page, second time");
    await page.getByLabel("New password", { exact: true }).fill("third-password-93");
    await page.getByLabel("Repeat new password").fill("third-password-93");
    await page.getByRole("button", { name: "Set new password" }).click();
    const used = await waitForCode(page, "reset-message", "RESET_TOKEN_INVALID", "used link");
    assert.match(used, /expired, was already used/);
    assert.equal(await page.locator("#request-section").isVisible(), true, "a dead link offers a new one");

    // And the new password logs in, in this cross-site page.
    await logIn(page, base, "grace", NEW_PASSWORD);
    await expectProfile(page, "grace", "login with the new password");
    // The link reached the address: it counts as verified now.
    await waitForText(page.locator("#detail-email-state"), /^\(verified\)$/, "profile shows the address verified");
  });

  test("an email address is verified through the page with the mailed link, and the security page shows it (same-site)", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { catcher, env } = await mailCatcher(t);
    const { base, apiBase } = await httpTopology(t, { pageHost: "localhost", apiHost: "localhost", env });
    const { page } = await launchBrowser(t, { name: "verify" });

    // Signing up with an address sends the verification mail.
    await open(page, base, "login.html");
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.locator("#signup-uid").fill("ada-l");
    await page.getByLabel("Email").fill("ada@example.com");
    await page.locator("#signup-password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await waitForText(page.locator("#signup-message"), /Account created for ada-l/, "signup");
    const mail = await catcher.waitForMail((m) => m.to === "ada@example.com" && /verify/i.test(m.subject), "with ada's verification link");
    assert.match(mail.text, /GitHub ID "ada-l"/);
    const { link } = linkOf(mail);
    assert.equal(`${link.origin}${link.pathname}`, `${base}/verify-email.html`);

    // Logged in, the profile and the security page say the address is not verified yet.
    await logIn(page, base, "ada-l", PASSWORD);
    await expectProfile(page, "ada-l", "login");
    await waitForText(page.locator("#detail-email-state"), /not verified — verify on the Security page/, "profile: not verified");
    await open(page, base, "security.html");
    await waitForText(page.getByTestId("email-state"), /^Not verified$/, "security page: not verified");
    await page.getByRole("button", { name: "Send the verification mail again" }).click();
    await waitForText(page.locator("#email-message"), /We sent a verification link to ada@example\.com/, "send again");
    await inspect(page, "security-email-unverified");

    // Opening the link changes nothing until the button is pressed.
    await openLink(page, link);
    await waitForText(page.locator("#verify-ready"), /Press the button to verify/, "verify page");
    await expectTokenGone(page, link, "verify page");
    const before = await api(apiBase, "POST", "/api/authenticate", { body: { uid: "ada-l", password: PASSWORD } });
    assert.equal(before.body?.user?.emailVerified, false, "opening the link verified the address");
    await inspect(page, "verify-email-ready");
    await page.getByRole("button", { name: "Verify my email address" }).click();
    await waitForText(page.locator("#verify-message"), /Your email address ada@example\.com is verified/, "verified");
    await inspect(page, "verify-email-done");

    await open(page, base, "security.html");
    await waitForText(page.getByTestId("email-state"), /^Verified$/, "security page: verified");
    await open(page, base, "profile.html");
    await waitForText(page.locator("#detail-email-state"), /^\(verified\)$/, "profile: verified");

    // Without a link the page explains itself and does nothing.
    await open(page, base, "verify-email.html");
    await waitForText(page.locator("#verify-missing"), /opened without one/, "verify page without a link");
  });

  test("an admin marks an address verified and sends a reset link from the admin page", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { catcher, env } = await mailCatcher(t);
    const { base, apiBase } = await httpTopology(t, { pageHost: "localhost", apiHost: "localhost", env });
    assert.equal((await api(apiBase, "POST", "/api/user", { body: { uid: "linus", name: "Linus", password: PASSWORD } })).status, 201);
    const admin = await api(apiBase, "POST", "/api/authenticate", { body: { uid: "admin", password: "password" } });
    assert.equal((await api(apiBase, "PUT", "/api/user/linus", { body: { email: "linus@example.com" }, cookie: admin.cookie })).status, 200);
    const { page } = await launchBrowser(t, { name: "admin-recovery" });

    await logIn(page, base, "admin", "password");
    await expectProfile(page, "admin", "admin login");
    await open(page, base, "admin.html");
    await page.getByRole("button", { name: "Manage linus" }).click();
    await waitForText(page.getByTestId("manage-email-state"), /Email linus@example\.com is not verified/, "address state");
    await page.getByRole("button", { name: "Mark email verified" }).click();
    await waitForText(page.locator("#manage-message"), /linus is now marked verified/, "marked verified");
    await waitForText(page.getByTestId("manage-email-state"), /is verified/, "address state after");
    assert.equal(await page.getByRole("button", { name: "Mark email verified" }).isDisabled(), true, "nothing left to mark");

    await page.getByRole("button", { name: "Send password reset link" }).click();
    await waitForText(page.locator("#manage-message"), /A password reset link is on its way to the e-mail address of linus/, "reset link sent");
    await inspect(page, "admin-recovery");
    const mail = await catcher.waitForMail((m) => m.to === "linus@example.com" && /reset/i.test(m.subject), "with linus's reset link");
    assert.match(mail.text, /GitHub ID "linus"/);
    // Within the minute, a second one is not sent, and the admin is told.
    await page.getByRole("button", { name: "Send password reset link" }).click();
    await waitForText(page.locator("#manage-message"), /No mail sent: linus was sent the most mails allowed/, "mail limit");
  });
});

// Browser tests of two-factor authentication (docs/two-factor.md): enrolment on the security page (the secret
// read from the page, a code computed as an authenticator app would), then the two-step login from a page on
// another site (127.0.0.1 → localhost), where the challenge cookie must land in the page's partition for the
// second step to work; a recovery code, "start over", turning it off, and the admin's reset button.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import * as OTPAuth from "otpauth";
import { suiteTimeLeft } from "../lib/suite.mjs";
import { checkPages, expectFocusOn, expectPartitionedCookie, expectProfile, httpTopology, inspect, launchBrowser, logIn, open, TEST_TIMEOUT_MS, waitForCode, waitForText } from "./harness.mjs";

const PASSWORD = "orbit-lantern-42";
const STEP_MS = 30_000;

/** The code an authenticator app shows for `secret` (base32) `steps` steps from now. */
function codeFor(secret, steps = 0) {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * STEP_MS });
}

/** A code that is certainly wrong: none of the three the ±1 step window accepts. */
function wrongCodeFor(secret) {
  const accepted = [-1, 0, 1, 2].map((steps) => codeFor(secret, steps));
  let n = 0;
  while (accepted.includes(String(n).padStart(6, "0"))) n++;
  return String(n).padStart(6, "0");
}

async function api(apiBase, method, path, { body, cookie } = {}) {
  const headers = { ...(body ? { "Content-Type": "application/json" } : {}), ...(cookie ? { Cookie: cookie } : {}) };
  const res = await fetch(`${apiBase}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(10_000) });
  const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]);
  return { status: res.status, body: await res.json().catch(() => null), cookie: cookies.find((c) => c.startsWith("__Host-jwt_token=")) };
}

async function logOut(page, base) {
  await open(page, base, "logout.html");
  await page.locator("#logout-button").click();
  await waitForText(page.locator("#logout-status"), /You have been logged out/, "logout");
}

/** After the password of an account with two-factor on: the second step replaces the password card. */
async function expectSecondStep(page, what) {
  await waitForText(page.locator("#mfa-step-heading"), /Two-factor authentication/, `${what}: second step`);
  assert.equal(await page.locator("#login-form").isVisible(), false, `${what}: the password form is hidden during the second step`);
  await expectFocusOn(page, "mfa-code", what);
}

describe("two-factor", { timeout: suiteTimeLeft() }, () => {
  afterEach(checkPages);

  test("two-factor: enrol on the security page, then log in with password + code from a cross-site page (127.0.0.1 → localhost)", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base, apiBase } = await httpTopology(t, { pageHost: "127.0.0.1", apiHost: "localhost" });
    assert.equal((await api(apiBase, "POST", "/api/user", { body: { uid: "ada", name: "Ada Lovelace", password: PASSWORD } })).status, 201);
    const { context, page } = await launchBrowser(t, { name: "two-factor" });

    await logIn(page, base, "ada", PASSWORD);
    await expectProfile(page, "ada", "first login");

    // Enrol: the QR code (a data: URL image under the pages' CSP) and the key as text.
    await open(page, base, "security.html");
    await waitForText(page.locator("#mfa-state"), /^Off$/, "two-factor state before");
    await inspect(page, "security-mfa-off");
    await page.locator("#mfa-setup-password").fill(PASSWORD);
    await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
    const shown = await waitForText(page.locator("#mfa-secret"), /^[A-Z2-7 ]{32,}$/, "the key to type by hand");
    const secret = shown.replace(/\s+/g, "");
    const qr = await page.locator("#mfa-qr").evaluate((img) => ({ src: img.src.slice(0, 22), width: img.naturalWidth, alt: img.alt }));
    assert.equal(qr.src, "data:image/png;base64,");
    assert(qr.width > 0, "the QR code image loaded");
    assert.match(qr.alt, /QR code/);
    await inspect(page, "security-mfa-enrol");

    // A wrong code is refused in words; the right one turns it on and shows the recovery codes once.
    await page.getByLabel("Code from the app").fill(wrongCodeFor(secret));
    await page.getByRole("button", { name: "Turn on" }).click();
    await waitForCode(page, "mfa-confirm-message", "MFA_CODE_INVALID", "wrong first code");
    await page.getByLabel("Code from the app").fill(codeFor(secret));
    await page.getByRole("button", { name: "Turn on" }).click();
    await waitForText(page.locator("#mfa-codes-heading"), /Your recovery codes/, "recovery codes");
    const codes = (await page.locator("#mfa-recovery-codes li").allInnerTexts()).map((c) => c.trim());
    assert.equal(codes.length, 10);
    for (const code of codes) assert.match(code, /^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    const download = await page.locator("#mfa-download-codes").evaluate((a) => ({ href: a.href, file: a.download }));
    assert.match(download.href, /^blob:/);
    assert.equal(download.file, "crossauth-recovery-codes-ada.txt");
    await inspect(page, "security-mfa-codes");
    await page.getByRole("button", { name: "I have saved them" }).click();
    await waitForText(page.locator("#mfa-state"), /^On$/, "two-factor state after");
    await waitForText(page.locator("#mfa-codes-left"), /10 unused recovery codes/, "codes left");

    // Log out, log in: the password asks for the code; the challenge cookie is in the page's partition.
    await logOut(page, base);
    await logIn(page, base, "ada", PASSWORD);
    await expectSecondStep(page, "password accepted");
    const challenge = (await context.cookies(apiBase)).find((c) => c.name === "__Host-mfa_challenge");
    assert(challenge, "the browser holds the challenge cookie");
    assert(challenge.httpOnly && challenge.secure && challenge.sameSite === "None", `challenge cookie attributes: ${JSON.stringify(challenge)}`);
    assert.equal(challenge.partitionKey, "http://127.0.0.1", "the challenge cookie is partitioned under the page's site");
    const field = await page.locator("#mfa-code").evaluate((input) => ({ autocomplete: input.getAttribute("autocomplete"), inputmode: input.inputMode }));
    assert.deepEqual(field, { autocomplete: "one-time-code", inputmode: "numeric" });
    await inspect(page, "login-mfa-step");

    await page.getByLabel("Code from your authenticator app").fill(wrongCodeFor(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    const refusal = await waitForCode(page, "mfa-message", "MFA_CODE_INVALID", "wrong login code");
    assert.match(refusal, /4 more times/);
    // The next step's code: newer than the one that confirmed the setup (which is spent), inside the window.
    await page.getByLabel("Code from your authenticator app").fill(codeFor(secret, 1));
    await page.getByRole("button", { name: "Verify" }).click();
    await expectProfile(page, "ada", "password + code");
    await expectPartitionedCookie(context, apiBase, "http://127.0.0.1");
    assert(!(await context.cookies(apiBase)).some((c) => c.name === "__Host-mfa_challenge"), "the challenge cookie is cleared");

    // A recovery code, through "Use a recovery code instead".
    await logOut(page, base);
    await logIn(page, base, "ada", PASSWORD);
    await expectSecondStep(page, "second login");
    await page.getByRole("link", { name: "Use a recovery code instead" }).click();
    const recoveryField = page.getByLabel("Recovery code");
    assert.equal(await recoveryField.evaluate((input) => input.getAttribute("autocomplete")), "off");
    await recoveryField.fill(codes[0].toLowerCase());
    await page.getByRole("button", { name: "Verify" }).click();
    await expectProfile(page, "ada", "password + recovery code");

    // "Start over" returns to the password form.
    await logOut(page, base);
    await logIn(page, base, "ada", PASSWORD);
    await expectSecondStep(page, "third login");
    await page.getByRole("link", { name: "Start over" }).click();
    assert.equal(await page.locator("#mfa-step").isHidden(), true, "the second step is gone");
    await expectFocusOn(page, "login-password", "start over");
    assert.equal(await page.locator("#login-password").inputValue(), "", "the password is cleared");

    // Log in again and turn two-factor off on the security page (password + a recovery code).
    await page.locator("#login-password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expectSecondStep(page, "fourth login");
    await page.getByRole("link", { name: "Use a recovery code instead" }).click();
    await page.getByLabel("Recovery code").fill(codes[1]);
    await page.getByRole("button", { name: "Verify" }).click();
    await expectProfile(page, "ada", "before turning it off");
    await open(page, base, "security.html");
    await waitForText(page.locator("#mfa-codes-left"), /8 unused recovery codes/, "codes left after two were used");
    await inspect(page, "security-mfa-on");
    await page.locator("#mfa-disable-password").fill(PASSWORD);
    await page.locator("#mfa-disable-code").fill(codes[2]);
    await page.getByRole("button", { name: "Turn off two-factor authentication" }).click();
    await waitForText(page.locator("#mfa-state"), /^Off$/, "two-factor state after turning it off");
    await waitForText(page.locator("#security-message"), /Two-factor authentication is off/, "turned off note");
    await logOut(page, base);
    await logIn(page, base, "ada", PASSWORD);
    await expectProfile(page, "ada", "password alone after turning it off");
  });

  test("two-factor: an admin turns off a user's two-factor on the users page (localhost)", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base, apiBase } = await httpTopology(t, { pageHost: "localhost", apiHost: "localhost" });
    assert.equal((await api(apiBase, "POST", "/api/user", { body: { uid: "brian", name: "Brian Kernighan", password: PASSWORD } })).status, 201);
    const brian = await api(apiBase, "POST", "/api/authenticate", { body: { uid: "brian", password: PASSWORD } });
    const setup = await api(apiBase, "POST", "/api/mfa/totp/setup", { body: { currentPassword: PASSWORD }, cookie: brian.cookie });
    assert.equal(setup.status, 200);
    const confirmed = await api(apiBase, "POST", "/api/mfa/totp/confirm", { body: { code: codeFor(setup.body.secret) }, cookie: brian.cookie });
    assert.equal(confirmed.status, 200);

    const { page } = await launchBrowser(t, { name: "admin-two-factor" });
    await logIn(page, base, "admin", "password");
    await expectProfile(page, "admin", "admin login");
    await open(page, base, "admin.html");
    await page.getByRole("button", { name: "Manage brian" }).click();
    await waitForText(page.locator("#manage-mfa-state"), /Two-factor authentication is on for brian/, "state before");
    await page.getByRole("button", { name: "Turn off two-factor" }).click(); // the confirm() dialog is accepted
    await waitForText(page.locator("#manage-message"), /Two-factor authentication is off for brian/, "reset note");
    await waitForText(page.locator("#manage-mfa-state"), /off for brian/, "state after");
    assert.equal(await page.getByRole("button", { name: "Turn off two-factor" }).isDisabled(), true);
    await inspect(page, "admin-mfa-reset");

    assert.equal((await api(apiBase, "GET", "/api/id", { cookie: confirmed.cookie })).status, 401, "brian's session ended");
    const again = await api(apiBase, "POST", "/api/authenticate", { body: { uid: "brian", password: PASSWORD } });
    assert.equal(again.status, 200, "the password alone signs in again");
  });
});

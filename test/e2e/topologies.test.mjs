// Browser tests of each topology: same-site, cross-site over http and over HTTPS (Partitioned cookie), and
// the message a login gets when the browser blocks an unpartitioned cross-site cookie.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { freePort } from "../lib/api-process.mjs";
import { suiteTimeLeft } from "../lib/suite.mjs";
import { checkPages, expectFocusOn, expectPartitionedCookie, expectProfile, httpTopology, inspect, launchBrowser, logIn, makeCertificate, open, startE2eApi, startFrontend, startTlsProxy, TEST_TIMEOUT_MS, waitForCode, waitForText } from "./harness.mjs";

describe("topologies", { timeout: suiteTimeLeft() }, () => {
  afterEach(checkPages);

  test("same-site (localhost → localhost): sign up, log in, edit profile, change password, log out", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base } = await httpTopology(t, { pageHost: "localhost", apiHost: "localhost" });
    const { page } = await launchBrowser(t, { name: "same-site" });

    await open(page, base, "index.html");
    await waitForText(page.locator("#home-status"), /You are not logged in/, "home before login");
    await waitForText(page.locator("#nav-links"), /Log in/, "nav before login");
    await inspect(page, "home-logged-out");

    // Sign up, then log in with the new account.
    await open(page, base, "login.html");
    await inspect(page, "login");
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.locator("#signup-uid").fill("ada-l");
    await page.getByLabel("Email").fill("ada@example.com");
    await page.locator("#signup-password").fill("analytical-1843");
    await page.getByRole("button", { name: "Create account" }).click();
    await waitForText(page.locator("#signup-message"), /Account created for ada-l/, "signup");
    assert((await page.locator("#login-uid").inputValue()) === "ada-l", "signup should prefill the login GitHub ID");
    await expectFocusOn(page, "login-password", "after signup");
    await inspect(page, "login-after-signup");
    await page.keyboard.type("analytical-1843");
    await page.keyboard.press("Enter");
    await expectProfile(page, "ada-l", "login after signup");
    await waitForText(page.getByTestId("nav-user"), /^Ada Lovelace$/, "nav shows the user's name");
    await waitForText(page.locator("#detail-email"), /^ada@example\.com$/, "profile email");
    await inspect(page, "profile");

    // Edit the profile. Changing the email needs the current password (docs/api.md › PUT /api/user):
    // without it nothing is saved, with it the change survives a reload.
    await page.locator("#profile-name").fill("Ada King");
    await page.locator("#profile-email").fill("ada@king.example");
    await page.getByRole("button", { name: "Save changes" }).click();
    const noCurrent = await waitForCode(page, "edit-message", "VALIDATION_FAILED", "email change without the current password");
    // The page sends the empty field as "" (the API then says "is incorrect"); either answer names the field.
    assert(/Current password (is required to change the e-mail address|is incorrect)/.test(noCurrent), `missing current password message: ${noCurrent}`);
    await page.reload();
    await waitForText(page.locator("#detail-email"), /^ada@example\.com$/, "email after the refused change");
    await waitForText(page.locator("#detail-name"), /^Ada Lovelace$/, "name after the refused change");
    await page.locator("#profile-name").fill("Ada King");
    await page.locator("#profile-email").fill("ada@king.example");
    await page.locator("#profile-current-password").fill("analytical-1843");
    await page.getByRole("button", { name: "Save changes" }).click();
    await waitForText(page.locator("#edit-message"), /Your profile was saved/, "save profile");
    assert((await page.locator("#profile-current-password").inputValue()) === "", "the current password should be cleared after saving");
    await page.reload();
    await waitForText(page.locator("#detail-name"), /^Ada King$/, "edited name after reload");
    await waitForText(page.locator("#detail-email"), /^ada@king\.example$/, "edited email after reload");

    // An invalid edit shows the API's field errors (the current password is right: only the name is wrong).
    await page.locator("#profile-email").fill("");
    await page.locator("#profile-current-password").fill("analytical-1843");
    await page.locator("#profile-name").evaluate((input) => input.removeAttribute("minlength"));
    await page.locator("#profile-name").fill("A");
    await page.getByRole("button", { name: "Save changes" }).click();
    const invalid = await waitForCode(page, "edit-message", "VALIDATION_FAILED", "invalid name");
    assert(/Name must be 2 to 100 characters/.test(invalid), `validation message should name the field: ${invalid}`);
    await expectFocusOn(page, "edit-message", "validation error");
    await page.reload();

    // Change the password: a wrong current password is refused, the right one works.
    await page.locator("#current-password").fill("not-my-password");
    await page.locator("#new-password").fill("difference-engine-2");
    await page.locator("#confirm-password").fill("difference-engine-2");
    await page.getByRole("button", { name: "Change password" }).click();
    const wrongCurrent = await waitForCode(page, "password-message", "VALIDATION_FAILED", "wrong current password");
    assert(/Current password is incorrect/.test(wrongCurrent), `wrong current password message: ${wrongCurrent}`);
    await page.locator("#current-password").fill("analytical-1843");
    await page.getByRole("button", { name: "Change password" }).click();
    await waitForText(page.locator("#password-message"), /Your password was changed/, "change password");
    await inspect(page, "profile-password-changed");
    // The re-issued cookie keeps this session alive.
    await page.reload();
    await waitForText(page.locator("#detail-uid"), /^ada-l$/, "still logged in after the password change");

    await open(page, base, "index.html");
    await waitForText(page.locator("#home-status"), /Welcome back, Ada King/, "home when logged in");
    await inspect(page, "home-logged-in");

    // Log out from the profile, and stay logged out after a reload.
    await open(page, base, "profile.html");
    await page.getByRole("button", { name: "Log out", exact: true }).click();
    await waitForText(page.locator("#profile-message"), /You have been logged out/, "log out");
    await page.reload();
    await waitForText(page.locator("#profile-message"), /You are not logged in/, "profile after logout and reload");
    await waitForText(page.locator("#nav-links"), /Log in/, "nav after logout");
    await inspect(page, "profile-logged-out");

    // The old password no longer works, the new one does; a second browser logs in to the same account.
    await logIn(page, base, "ada-l", "analytical-1843");
    await waitForCode(page, "login-message", "INVALID_CREDENTIALS", "old password after change");
    await logIn(page, base, "ada-l", "difference-engine-2");
    await expectProfile(page, "ada-l", "login with the new password");
    const other = (await launchBrowser(t, { name: "same-site-second-browser" })).page;
    await logIn(other, base, "ada-l", "difference-engine-2");
    await expectProfile(other, "ada-l", "login in a second browser");

    // The logout page does nothing on load, even with the old ?all=true: a link from any site must not
    // log anyone out. It shows the session and waits for a button.
    await open(page, base, "logout.html?all=true");
    await waitForText(page.locator("#logout-status"), /^You are logged in as Ada King \(ada-l\)\.$/, "logout page on load");
    assert(await page.locator("#logout-button").isVisible(), "the logout page should offer Log out");
    assert(await page.locator("#logout-all-button").isVisible(), "the logout page should offer Log out everywhere");
    await inspect(page, "logout");
    await page.reload();
    await waitForText(page.locator("#logout-status"), /^You are logged in as Ada King \(ada-l\)\.$/, "logout page after a reload");
    await open(page, base, "profile.html");
    await waitForText(page.locator("#detail-uid"), /^ada-l$/, "profile after opening logout.html?all=true");
    await other.reload();
    await waitForText(other.locator("#detail-uid"), /^ada-l$/, "the other browser after logout.html?all=true was opened");

    // "Log out" ends this browser's session only, whatever the page's URL says.
    await open(page, base, "logout.html?all=true");
    await waitForText(page.locator("#logout-status"), /You are logged in as/, "logout page before pressing Log out");
    await page.getByRole("button", { name: "Log out", exact: true }).click();
    await waitForText(page.locator("#logout-status"), /^You have been logged out\.$/, "Log out on the logout page");
    await inspect(page, "logout-done");
    await page.reload();
    await waitForText(page.locator("#logout-status"), /^You are not logged in\.$/, "logout page after logging out and a reload");
    await open(page, base, "index.html");
    await waitForText(page.locator("#home-status"), /You are not logged in/, "home after the logout page");
    await other.reload();
    await waitForText(other.locator("#detail-uid"), /^ada-l$/, "the other browser after Log out in the first");

    // "Log out everywhere" on the profile page ends the session in the other browser too.
    await logIn(page, base, "ada-l", "difference-engine-2");
    await expectProfile(page, "ada-l", "login again");
    await page.getByRole("button", { name: "Log out everywhere" }).click();
    await waitForText(page.locator("#profile-message"), /logged out on every device/, "log out everywhere");
    await other.reload();
    await waitForCode(other, "profile-message", "TOKEN_REVOKED", "the other browser after logging out everywhere");
  });

  test("cross-site over http (127.0.0.1 → localhost), Partitioned cookie: log in and reach the profile", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base, apiBase } = await httpTopology(t, { pageHost: "127.0.0.1", apiHost: "localhost" });
    const { context, page } = await launchBrowser(t, { name: "cross-site-http" });
    await logIn(page, base, "user", "password");
    await expectProfile(page, "user", "cross-site login");
    await expectPartitionedCookie(context, apiBase, "http://127.0.0.1");
    await page.reload();
    await waitForText(page.locator("#detail-uid"), /^user$/, "still logged in after reload");
    await inspect(page, "cross-site-http-profile");
    await page.setViewportSize({ width: 390, height: 844 });
    await inspect(page, "profile-narrow-screen");
  });

  test("cross-site over HTTPS (app.test → api.test), Partitioned cookie: log in, reload, still logged in", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const tls = await makeCertificate(t);
    const apiPort = await freePort();
    const proxyPort = await startTlsProxy(t, { tls, targetPort: apiPort });
    const frontendPort = await startFrontend(t, { apiUrl: `https://api.test:${proxyPort}`, tls });
    const base = `https://app.test:${frontendPort}`;
    await startE2eApi(t, { port: apiPort, origins: [base] });
    const { context, page } = await launchBrowser(t, {
      name: "cross-site-https",
      resolverRules: ["MAP app.test 127.0.0.1", "MAP api.test 127.0.0.1"],
      extraArgs: ["--ignore-certificate-errors"],
    });
    await logIn(page, base, "user", "password");
    await expectProfile(page, "user", "HTTPS cross-site login");
    await expectPartitionedCookie(context, `https://api.test:${proxyPort}`, "https://app.test");
    await page.reload();
    await waitForText(page.locator("#detail-uid"), /^user$/, "still logged in after reload");
    await open(page, base, "index.html");
    await waitForText(page.getByTestId("nav-user"), /^Demo User$/, "home nav over HTTPS");
    await inspect(page, "cross-site-https-home");
  });

  test("cross-site over http without Partitioned: the login page says the browser blocked the cookie", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base } = await httpTopology(t, {
      pageHost: "127.0.0.1",
      apiHost: "localhost",
      env: { COOKIE_PARTITIONED: "false" },
    });
    const { page } = await launchBrowser(t, { name: "blocked-cookie" });
    await logIn(page, base, "user", "password");
    const text = await waitForCode(page, "login-message", "COOKIE_BLOCKED", "unpartitioned cross-site login");
    assert(/blocked the login cookie/.test(text), `blocked-cookie message: ${text}`);
    assert(/Partitioned/.test(text) && /localhost/.test(text), `blocked-cookie message should say what to do: ${text}`);
    assert(/\/login\.html$/.test(page.url()), `should stay on the login page, is at ${page.url()}`);
    await expectFocusOn(page, "login-message", "blocked cookie");
    await inspect(page, "login-blocked-cookie");
  });
});

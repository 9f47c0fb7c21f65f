// Browser test of failed logins: the wrong-credentials message, the lockout and its wait, and the message
// when the API cannot be reached.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { suiteTimeLeft } from "../lib/suite.mjs";
import { ACTION_TIMEOUT_MS, checkPages, expectFocusOn, httpTopology, inspect, launchBrowser, logIn, TEST_TIMEOUT_MS, waitForCode } from "./harness.mjs";

describe("lockout", { timeout: suiteTimeLeft() }, () => {
  afterEach(checkPages);

  test("wrong password shows the wrong-credentials message; repeated failures show the lockout and its wait", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base, api } = await httpTopology(t, {
      pageHost: "localhost",
      apiHost: "localhost",
      env: { LOGIN_MAX_FAILURES: "3", LOGIN_LOCK_SECONDS: "60" },
    });
    const { page } = await launchBrowser(t, { name: "lockout" });

    await logIn(page, base, "user", "wrong-password");
    const wrong = await waitForCode(page, "login-message", "INVALID_CREDENTIALS", "wrong password");
    assert(/Wrong GitHub ID or password/.test(wrong), `wrong-credentials message: ${wrong}`);
    await expectFocusOn(page, "login-message", "wrong password");
    await inspect(page, "login-wrong-password");

    let locked = "";
    for (let attempt = 2; attempt <= 6 && !locked; attempt += 1) {
      await page.locator("#login-password").fill(`wrong-password-${attempt}`);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForFunction(() => {
        const el = document.getElementById("login-message");
        return !el.hidden && el.dataset.code;
      }, null, { timeout: ACTION_TIMEOUT_MS });
      const code = await page.locator("#login-message").getAttribute("data-code");
      if (code === "RATE_LIMITED") locked = (await page.locator("#login-message").innerText()).trim();
      else assert(code === "INVALID_CREDENTIALS", `attempt ${attempt}: unexpected ${code}`);
    }
    assert(locked, "six wrong passwords never locked the account (LOGIN_MAX_FAILURES=3)");
    const wait = /wait (\d+) seconds|wait 1 minute/.exec(locked);
    assert(wait, `lockout message should say how long to wait: ${locked}`);
    assert(!wait[1] || (Number(wait[1]) > 0 && Number(wait[1]) <= 60), `wait should be within LOGIN_LOCK_SECONDS: ${locked}`);
    await inspect(page, "login-locked");

    // The lock holds for the right password too.
    await page.locator("#login-password").fill("password");
    await page.getByRole("button", { name: "Log in" }).click();
    await waitForCode(page, "login-message", "RATE_LIMITED", "right password while locked");

    // With the API gone, the page explains the network failure.
    await api.stop();
    await page.locator("#login-password").fill("password");
    await page.getByRole("button", { name: "Log in" }).click();
    const down = await waitForCode(page, "login-message", "NETWORK_ERROR", "API down");
    assert(/Could not reach the login service/.test(down), `network failure message: ${down}`);
    await inspect(page, "login-network-error");
  });
});

// Browser tests of passkeys (docs/passkeys.md) with Chromium's virtual authenticator (CDP WebAuthn.enable,
// WebAuthn.addVirtualAuthenticator): add a passkey on the security page, rename it, sign in with it from the login
// page without typing a GitHub ID — on localhost (page and API on different ports: RP ID localhost) and on a test
// HTTPS host (https://app.test → https://api.test, cross-site) — and the refusal a page on 127.0.0.1 gets, shown
// before the browser is asked for a passkey.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { freePort } from "../lib/api-process.mjs";
import { suiteTimeLeft } from "../lib/suite.mjs";
import {
  checkPages,
  expectPartitionedCookie,
  expectProfile,
  inspect,
  launchBrowser,
  logIn,
  makeCertificate,
  open,
  startE2eApi,
  startFrontend,
  startTlsProxy,
  TEST_TIMEOUT_MS,
  waitForCode,
  waitForText,
} from "./harness.mjs";

const PASSWORD = "orbit-lantern-42";

async function createAccount(apiBase, uid, name) {
  const res = await fetch(`${apiBase}/api/user`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ uid, name, password: PASSWORD }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 201, `signup ${uid}: ${res.status} ${await res.text()}`);
}

/**
 * A virtual platform authenticator on this page's browser (resident keys, user verification that always
 * succeeds, no prompt), and a record of every navigator.credentials call the pages make.
 */
async function addAuthenticator(context, page) {
  await context.addInitScript(() => {
    window.__credentialCalls = [];
    const container = navigator.credentials;
    if (!container) return;
    for (const name of ["create", "get"]) {
      const original = container[name].bind(container);
      container[name] = (...args) => {
        window.__credentialCalls.push(name);
        return original(...args);
      };
    }
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials };
}

const credentialCalls = (page) => page.evaluate(() => window.__credentialCalls ?? []);

async function logOut(page, base) {
  await open(page, base, "logout.html");
  await page.locator("#logout-button").click();
  await waitForText(page.locator("#logout-status"), /You have been logged out/, "logout");
}

/** On the security page: adds a passkey named `name` and waits for it in the list. */
async function addPasskey(page, base, name, what) {
  await open(page, base, "security.html");
  await waitForText(page.locator("#passkeys-empty"), /You have no passkeys yet/, `${what}: no passkeys before`);
  await page.getByLabel("Name for the new passkey").fill(name);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await waitForText(page.locator("#passkeys-message"), new RegExp(`Passkey “${name}” added`), `${what}: passkey added`);
  await waitForText(page.locator("#passkeys-list"), new RegExp(`${name} — added .*not used yet`), `${what}: the list shows it`);
}

/** On the login page, with nothing typed: "Sign in with a passkey", then the profile. */
async function signInWithPasskey(page, base, uid, what) {
  await open(page, base, "login.html");
  assert.equal(await page.locator("#login-uid").inputValue(), "", `${what}: no GitHub ID typed`);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expectProfile(page, uid, what);
}

describe("passkeys", { timeout: suiteTimeLeft() }, () => {
  afterEach(checkPages);

  test("passkeys on localhost (RP ID localhost, API on another port): add, rename, sign in without a uid, remove; refused on 127.0.0.1", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const apiPort = await freePort();
    const apiBase = `http://localhost:${apiPort}`;
    const frontendPort = await startFrontend(t, { apiUrl: apiBase });
    const base = `http://localhost:${frontendPort}`;
    const ipBase = `http://127.0.0.1:${frontendPort}`;
    await startE2eApi(t, { port: apiPort, origins: [base, ipBase] });
    await createAccount(apiBase, "grace", "Grace Hopper");
    const { context, page } = await launchBrowser(t, { name: "passkeys-localhost" });
    const authenticator = await addAuthenticator(context, page);

    await logIn(page, base, "grace", PASSWORD);
    await expectProfile(page, "grace", "password login");
    await addPasskey(page, base, "Test laptop", "localhost");
    await inspect(page, "security-passkeys");
    const [credential, ...more] = await authenticator.credentials();
    assert.equal(more.length, 0, "one credential in the authenticator");
    assert.equal(credential.rpId, "localhost");
    assert.equal(credential.isResidentCredential, true, "a discoverable credential");
    const handle = Buffer.from(credential.userHandle, "base64");
    assert.equal(handle.length, 16, "the user handle is 16 random bytes");
    assert(!handle.toString("utf8").includes("grace"), "the user handle is not the uid");

    // Rename it (keyboard: the field is focused and selected).
    await page.getByRole("button", { name: "Rename Test laptop" }).click();
    await page.keyboard.type("Grace's laptop");
    await page.keyboard.press("Enter");
    await waitForText(page.locator("#passkeys-message"), /Renamed to “Grace's laptop”/, "rename");
    await waitForText(page.locator("#passkeys-list"), /Grace's laptop — added/, "renamed in the list");

    // Sign in with it: no GitHub ID, no password.
    await logOut(page, base);
    await signInWithPasskey(page, base, "grace", "passkey sign-in on localhost");
    assert.deepEqual(await credentialCalls(page), [], "the profile page asks for no passkey");
    await open(page, base, "security.html");
    await waitForText(page.locator("#passkeys-list"), /Grace's laptop — added .*last used/, "last used after the sign-in");

    // Removed on the server, the authenticator still offers it: the login page says it was not accepted.
    await page.getByRole("button", { name: "Remove Grace's laptop" }).click();
    await page.getByRole("button", { name: "Remove it" }).click();
    await waitForText(page.locator("#passkeys-message"), /Removed “Grace's laptop”/, "remove");
    await waitForText(page.locator("#passkeys-empty"), /You have no passkeys yet/, "empty after remove");
    await logOut(page, base);
    await open(page, base, "login.html");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    const refused = await waitForCode(page, "passkey-message", "PASSKEY_NOT_ACCEPTED", "removed passkey");
    assert.match(refused, /That passkey was not accepted/);

    // A page on 127.0.0.1: the API says why before the browser is asked for anything, and the page shows it.
    await open(page, ipBase, "login.html");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    const ipLogin = await waitForCode(page, "passkey-message", "PASSKEYS_UNAVAILABLE", "127.0.0.1 login page");
    assert.match(ipLogin, /This page is on an IP address \(127\.0\.0\.1\), and browsers allow passkeys only on pages with a host name\. Passkeys work on http:\/\/localhost:\d+/);
    assert.deepEqual(await credentialCalls(page), [], "navigator.credentials was not called on 127.0.0.1");
    await inspect(page, "login-passkeys-refused-on-ip");
    await logIn(page, ipBase, "grace", PASSWORD);
    await expectProfile(page, "grace", "password login on 127.0.0.1");
    await open(page, ipBase, "security.html");
    await waitForText(page.locator("#passkeys-empty"), /You have no passkeys yet/, "security page on 127.0.0.1");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    const ipAdd = await waitForCode(page, "passkeys-message", "PASSKEYS_UNAVAILABLE", "127.0.0.1 security page");
    assert.match(ipAdd, /IP address \(127\.0\.0\.1\)/);
    assert.deepEqual(await credentialCalls(page), [], "navigator.credentials was not called on the 127.0.0.1 security page");
    assert.equal((await authenticator.credentials()).length, 1, "nothing new in the authenticator");
  });

  test("passkeys on a test HTTPS host (https://app.test → https://api.test, cross-site): add one, sign in with it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const tls = await makeCertificate(t);
    const apiPort = await freePort();
    const proxyPort = await startTlsProxy(t, { tls, targetPort: apiPort });
    const apiBase = `https://api.test:${proxyPort}`;
    const frontendPort = await startFrontend(t, { apiUrl: apiBase, tls });
    const base = `https://app.test:${frontendPort}`;
    await startE2eApi(t, { port: apiPort, origins: [base] });
    await createAccount(`http://127.0.0.1:${apiPort}`, "katherine", "Katherine Johnson");
    const { context, page } = await launchBrowser(t, {
      name: "passkeys-https",
      resolverRules: ["MAP app.test 127.0.0.1", "MAP api.test 127.0.0.1"],
      extraArgs: ["--ignore-certificate-errors"],
    });
    const authenticator = await addAuthenticator(context, page);

    await logIn(page, base, "katherine", PASSWORD);
    await expectProfile(page, "katherine", "HTTPS password login");
    await addPasskey(page, base, "Office desktop", "app.test");
    const [credential] = await authenticator.credentials();
    assert.equal(credential.rpId, "app.test", "the RP ID is the page's host, not the API's");

    await logOut(page, base);
    await context.clearCookies();
    await signInWithPasskey(page, base, "katherine", "passkey sign-in on app.test");
    await expectPartitionedCookie(context, apiBase, "https://app.test");
    await inspect(page, "passkeys-https-profile");
  });
});

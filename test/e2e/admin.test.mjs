// Browser test of the admin page: listing, deleting and promoting users, and what a plain user sees.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { suiteTimeLeft } from "../lib/suite.mjs";
import { checkPages, expectFocusOn, expectProfile, httpTopology, inspect, launchBrowser, logIn, open, TEST_TIMEOUT_MS, waitForCode, waitForText } from "./harness.mjs";

describe("admin", { timeout: suiteTimeLeft() }, () => {
  afterEach(checkPages);

  test("admin: changes a user's role, which the user's next request reflects; a user cannot see the admin data", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base } = await httpTopology(t, { pageHost: "localhost", apiHost: "localhost" });
    const admin = (await launchBrowser(t, { name: "admin" })).page;
    const user = (await launchBrowser(t, { name: "user" })).page;

    // A plain user: "Admins only" and no data.
    await logIn(user, base, "user", "password");
    await expectProfile(user, "user", "user login");
    await waitForText(user.locator("#detail-role"), /^User$/, "user's role before");
    await open(user, base, "admin.html");
    await waitForText(user.locator("#admin-message"), /Admins only/, "admin page for a User");
    assert(!(await user.locator("#admin-content").isVisible()), "a User must not see the users table");
    assert((await user.locator("#users-body tr").count()) === 0, "a User's admin page must hold no user rows");
    await inspect(user, "admin-as-user");

    // The admin signs up a throwaway account (signup sets no cookie), lists users, deletes it.
    await logIn(admin, base, "admin", "password");
    await expectProfile(admin, "admin", "admin login");
    await open(admin, base, "login.html");
    await admin.getByLabel("Name").fill("Temporary Account");
    await admin.locator("#signup-uid").fill("temp-account");
    await admin.locator("#signup-password").fill("temporary-123");
    await admin.getByRole("button", { name: "Create account" }).click();
    await waitForText(admin.locator("#signup-message"), /Account created/, "admin creates a throwaway account");
    await open(admin, base, "admin.html");
    await waitForText(admin.locator("#users-body"), /admin.*temp-account.*user/, "users table");
    await inspect(admin, "admin-users");

    await admin.getByRole("button", { name: "Manage temp-account" }).click();
    await expectFocusOn(admin, "manage-heading", "manage panel");
    await admin.getByRole("button", { name: "Delete user" }).click();
    await waitForText(admin.locator("#admin-message"), /temp-account was deleted/, "delete");
    assert((await admin.locator('#users-body tr[data-uid="temp-account"]').count()) === 0, "deleted row should be gone");

    // Promote the user.
    await admin.getByRole("button", { name: "Manage user" }).click();
    await admin.getByLabel("Role").selectOption("Admin");
    await admin.getByRole("button", { name: "Save role" }).click();
    await waitForText(admin.locator("#manage-message"), /user is now an Admin/, "role change");
    await waitForText(admin.locator('#users-body tr[data-uid="user"]'), /Admin/, "table shows the new role");
    await inspect(admin, "admin-role-changed");

    // The role change revoked the user's sessions: their next request says so; after logging in again
    // they are an Admin and see the data.
    await open(user, base, "profile.html");
    const ended = await waitForCode(user, "profile-message", "TOKEN_REVOKED", "user's next request after the role change");
    assert(/session has ended/.test(ended), `session-ended message: ${ended}`);
    await inspect(user, "profile-session-ended");
    await logIn(user, base, "user", "password");
    await expectProfile(user, "user", "user logs in again");
    await waitForText(user.locator("#detail-role"), /^Admin$/, "user's role after the change");
    await open(user, base, "admin.html");
    await waitForText(user.locator("#users-body"), /admin.*user/, "the promoted user sees the users table");
  });
});

// The relying-party rules of passkeys (docs/passkeys.md › The RP ID): which RP ID a configuration gets, which pages
// may use it, the words a page gets when it cannot, what the doctor reports, and /.well-known/webauthn for related
// origins (outside /api: its 404, CSP, CORS and the route list).
import { listRoutes } from "../../backend/app";
import { ConfigError } from "../../backend/config";
import { originServesRpId, rpIdProblem } from "../../backend/config.accounts";
import { passkeyOriginProblem, passkeyReadiness } from "../../backend/passkeys/rp-check";
import { expectError, makeTestApp, testConfig, type TestApp } from "./helpers";

const config = (env: Record<string, string>) => testConfig(env, "file:/tmp/crossauth-passkeys-rp-unused.db");

function problemsOf(env: Record<string, string>): string[] {
  try {
    config(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("what can be an RP ID", () => {
  it.each([
    ["localhost", null],
    ["you.github.io", null],
    ["example.com", null],
    ["app.example.com", null],
    ["xn--bcher-kva.example", null],
    ["127.0.0.1", /IP address/],
    ["[::1]", /IP address/],
    ["::1", /IP address/],
    ["github.io", /public suffix: use your own host under it, such as you\.github\.io/],
    ["com", /public suffix/],
    ["co.uk", /public suffix/],
    ["https://example.com", /not a bare host name/],
    ["Example.com", /not a bare host name/],
    ["example.com:8443", /not a bare host name/],
    ["example.com/", /not a bare host name/],
  ])("%s", (rpId, expected) => {
    const problem = rpIdProblem(rpId);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it("a page serves an RP ID when its host is the RP ID or under it, over https or on localhost", () => {
    expect(originServesRpId("https://app.example.com", "example.com")).toBe(true);
    expect(originServesRpId("https://example.com", "example.com")).toBe(true);
    expect(originServesRpId("https://badexample.com", "example.com")).toBe(false);
    expect(originServesRpId("http://app.example.com", "example.com")).toBe(false);
    expect(originServesRpId("http://localhost:4100", "localhost")).toBe(true);
    expect(originServesRpId("http://app.localhost:4100", "localhost")).toBe(true);
    expect(originServesRpId("https://api.example.com", "app.example.com")).toBe(false);
  });
});

describe("the configuration", () => {
  it("derives the RP ID from the first page that can have one, and the origins under it", () => {
    expect(config({}).webauthn).toEqual({ rpId: "localhost", rpName: "crossauth", origins: ["http://localhost:4100"], relatedOrigins: false });
    expect(config({ ALLOWED_ORIGINS: "http://127.0.0.1:4100,https://you.github.io" }).webauthn).toMatchObject({ rpId: "you.github.io", origins: ["https://you.github.io"] });
    // A plain-http page on a name other than localhost can never run a ceremony: it gives no RP ID.
    expect(config({ ALLOWED_ORIGINS: "http://myhost.lan:4100,https://app.example.com" }).webauthn).toMatchObject({ rpId: "app.example.com" });
  });

  it("turns passkeys off when no page can have an RP ID", () => {
    expect(config({ ALLOWED_ORIGINS: "http://127.0.0.1:4100" }).webauthn).toMatchObject({ rpId: null, origins: [] });
    expect(config({ ALLOWED_ORIGINS: "http://myhost.lan:4100" }).webauthn).toMatchObject({ rpId: null, origins: [] });
  });

  it("takes a registrable suffix as RP ID: app.example.com and www.example.com share example.com, api.example.com is not a page", () => {
    const c = config({ ALLOWED_ORIGINS: "https://app.example.com,https://www.example.com", WEBAUTHN_RP_ID: "example.com" });
    expect(c.webauthn).toMatchObject({ rpId: "example.com", origins: ["https://app.example.com", "https://www.example.com"] });
  });

  it("refuses an explicit IP address, public suffix or URL as WEBAUTHN_RP_ID", () => {
    expect(problemsOf({ WEBAUTHN_RP_ID: "127.0.0.1" })).toEqual([expect.stringMatching(/^WEBAUTHN_RP_ID: an IP address cannot be a relying-party ID/)]);
    expect(problemsOf({ WEBAUTHN_RP_ID: "github.io" })).toEqual([expect.stringMatching(/^WEBAUTHN_RP_ID: github\.io is a public suffix/)]);
    expect(problemsOf({ WEBAUTHN_RP_ID: "https://localhost" })).toEqual([expect.stringMatching(/^WEBAUTHN_RP_ID: .* is not a bare host name/)]);
  });

  it("refuses WEBAUTHN_ORIGINS that are not allowed, cannot use passkeys, or are outside the RP ID without related origins", () => {
    expect(problemsOf({ WEBAUTHN_ORIGINS: "http://localhost:5000" })).toEqual([expect.stringMatching(/^WEBAUTHN_ORIGINS: 'http:\/\/localhost:5000' is not in ALLOWED_ORIGINS/)]);
    expect(problemsOf({ WEBAUTHN_ORIGINS: "http://127.0.0.1:4100" })).toEqual([expect.stringMatching(/^WEBAUTHN_ORIGINS: 'http:\/\/127\.0\.0\.1:4100' cannot use passkeys/)]);
    const outside = { ALLOWED_ORIGINS: "https://app.example.com,https://shop.example.net", WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://app.example.com,https://shop.example.net" };
    expect(problemsOf(outside)).toEqual([expect.stringMatching(/'https:\/\/shop\.example\.net' is not under the relying-party ID example\.com; .* WEBAUTHN_RELATED_ORIGINS=true/)]);
    expect(config({ ...outside, WEBAUTHN_RELATED_ORIGINS: "true" }).webauthn).toMatchObject({ origins: ["https://app.example.com", "https://shop.example.net"], relatedOrigins: true });
  });

  it("warns (but starts) when an explicit RP ID serves no page — such as the API's own host", () => {
    const c = config({ ALLOWED_ORIGINS: "https://app.example.com", WEBAUTHN_RP_ID: "api.example.com" });
    expect(c.webauthn).toMatchObject({ rpId: "api.example.com", origins: [] });
    expect(c.warnings).toContainEqual(expect.stringMatching(/^WEBAUTHN_RP_ID=api\.example\.com: no ALLOWED_ORIGINS page is on api\.example\.com/));
  });
});

describe("passkeyOriginProblem (the words a page gets)", () => {
  const webauthn = config({ ALLOWED_ORIGINS: "http://localhost:4100,http://127.0.0.1:4100,https://app.example.com", WEBAUTHN_ORIGINS: "http://localhost:4100" }).webauthn;

  it("has nothing to say for a listed page or a request without Origin", () => {
    expect(passkeyOriginProblem(webauthn, "http://localhost:4100")).toBeNull();
    expect(passkeyOriginProblem(webauthn, undefined)).toBeNull();
  });

  it("names each reason and where passkeys do work", () => {
    expect(passkeyOriginProblem(webauthn, "http://127.0.0.1:4100")).toBe("This page is on an IP address (127.0.0.1), and browsers allow passkeys only on pages with a host name. Passkeys work on http://localhost:4100.");
    expect(passkeyOriginProblem(webauthn, "https://app.example.com")).toBe("Passkeys here belong to localhost, and this page (app.example.com) is neither localhost nor under it. Passkeys work on http://localhost:4100.");
    expect(passkeyOriginProblem(webauthn, "http://app.example.com")).toMatch(/^Passkeys need a secure page: this one is plain http on app\.example\.com/);
    expect(passkeyOriginProblem(webauthn, "http://localhost:5000")).toMatch(/^This page \(http:\/\/localhost:5000\) is not one of the pages this server accepts passkeys from \(WEBAUTHN_ORIGINS\)/);
    expect(passkeyOriginProblem(webauthn, "null")).toMatch(/^This page has no address passkeys can be tied to/);
    expect(passkeyOriginProblem({ ...webauthn, rpId: null, origins: [] }, "http://localhost:4100")).toMatch(/^Passkeys are off on this server/);
  });
});

describe("passkeyReadiness (for the doctor)", () => {
  const byId = (checks: ReturnType<typeof passkeyReadiness>) => Object.fromEntries(checks.map((c) => [c.id, c]));

  it("development: RP ID localhost, ready on localhost, a warning with the fix for 127.0.0.1", () => {
    const checks = byId(passkeyReadiness(config({})));
    expect(checks["passkeys-rp-id"]).toMatchObject({ status: "ok", detail: expect.stringMatching(/relying-party ID is localhost/) });
    expect(checks["passkeys-origins"]).toMatchObject({ status: "ok" });
    expect(checks["passkeys-page:http://localhost:4100"]).toMatchObject({ status: "ok" });
    expect(checks["passkeys-page:http://127.0.0.1:4100"]).toMatchObject({ status: "warn", detail: expect.stringMatching(/IP address/), fix: expect.stringMatching(/^Open the site at http:\/\/localhost:4100 to use passkeys/) });
    for (const check of Object.values(checks)) expect(check.status === "ok" || typeof check.fix === "string").toBe(true);
  });

  it("checks one page origin when given one", () => {
    const checks = passkeyReadiness(config({}), "http://localhost:4100");
    expect(checks.map((c) => c.id)).toEqual(["passkeys-rp-id", "passkeys-origins", "passkeys-page:http://localhost:4100"]);
  });

  it("passkeys off: one warning that says how to turn them on", () => {
    const checks = passkeyReadiness(config({ ALLOWED_ORIGINS: "http://127.0.0.1:4100" }));
    expect(checks).toEqual([expect.objectContaining({ id: "passkeys-rp-id", status: "warn", fix: expect.stringMatching(/host name/) })]);
  });

  it("fails an RP ID that serves no page, and says when it is the API's host", () => {
    const checks = byId(passkeyReadiness(config({ ALLOWED_ORIGINS: "https://app.example.com", WEBAUTHN_RP_ID: "api.example.com", PUBLIC_API_URL: "https://api.example.com" })));
    expect(checks["passkeys-origins"]).toMatchObject({ status: "fail", detail: expect.stringMatching(/the API's host \(api\.example\.com\).*never the API's/), fix: expect.stringMatching(/WEBAUTHN_RP_ID/) });
    expect(checks["passkeys-page:https://app.example.com"]).toMatchObject({ status: "warn" });
  });

  it("related origins: the file the API serves, or the one to serve elsewhere", () => {
    const related = { ALLOWED_ORIGINS: "https://www.example.com,https://shop.example.net", WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://www.example.com,https://shop.example.net", WEBAUTHN_RELATED_ORIGINS: "true" };
    expect(byId(passkeyReadiness(config({ ...related, PUBLIC_API_URL: "https://example.com" })))["passkeys-related-origins"]).toMatchObject({ status: "ok", detail: expect.stringMatching(/The API serves https:\/\/example\.com\/\.well-known\/webauthn/) });
    const elsewhere = byId(passkeyReadiness(config({ ...related, PUBLIC_API_URL: "https://api.example.net" })))["passkeys-related-origins"];
    expect(elsewhere).toMatchObject({ status: "warn", fix: expect.stringContaining('{"origins":["https://www.example.com","https://shop.example.net"]}') });
  });
});

describe("GET /.well-known/webauthn", () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  const related = {
    ALLOWED_ORIGINS: "https://www.example.com,https://shop.example.net",
    WEBAUTHN_RP_ID: "example.com",
    WEBAUTHN_ORIGINS: "https://www.example.com,https://shop.example.net",
    WEBAUTHN_RELATED_ORIGINS: "true",
    PUBLIC_API_URL: "https://example.com",
  };

  it("lists the origins when related origins are on and the RP ID is the API's host", async () => {
    t = await makeTestApp(related);
    const res = await t.http().get("/.well-known/webauthn");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.body).toEqual({ origins: ["https://www.example.com", "https://shop.example.net"] });
    // The API's usual headers: nothing in it can run or be framed; CORS only for the allowed pages.
    expect(res.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    const fromPage = await t.http().get("/.well-known/webauthn").set("Origin", "https://shop.example.net");
    expect(fromPage.headers["access-control-allow-origin"]).toBe("https://shop.example.net");
    const foreign = await t.http().get("/.well-known/webauthn").set("Origin", "https://evil.example");
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
    expectError(await t.http().post("/.well-known/webauthn").send({}), 405, "METHOD_NOT_ALLOWED");
    expectError(await t.http().get("/api/.well-known/webauthn"), 404, "NOT_FOUND");
    expectError(await t.http().get("/.well-known/other"), 404, "NOT_FOUND");
  });

  it("is 404 NOT_FOUND when related origins are off or the RP ID is not the API's host", async () => {
    t = await makeTestApp();
    expectError(await t.http().get("/.well-known/webauthn"), 404, "NOT_FOUND");
    await t.close();
    t = await makeTestApp({ ...related, PUBLIC_API_URL: "https://api.example.net" });
    expectError(await t.http().get("/.well-known/webauthn"), 404, "NOT_FOUND");
  });

  it("is in the route list the Postman coverage test reads", () => {
    expect(listRoutes()).toEqual(expect.arrayContaining([{ method: "GET", path: "/.well-known/webauthn" }, { method: "POST", path: "/api/authenticate/passkey" }]));
  });
});

// A fake GitHub on 127.0.0.1 for the tests of Sign in with GitHub (docs/github.md › Tests): GITHUB_OAUTH_BASE_URL
// and GITHUB_API_BASE_URL both point at it. It checks what real GitHub checks — the client, the exact redirect_uri,
// S256 PKCE (the verifier against the challenge), single-use codes — says "no" the way GitHub does (HTTP 200 with
// an `error` field), and records every request it saw. CommonJS: jest require()s it, the .mjs suites createRequire.
"use strict";
const crypto = require("node:crypto");
const http = require("node:http");

const random = (bytes) => crypto.randomBytes(bytes).toString("base64url");
const sha256url = (text) => crypto.createHash("sha256").update(text).digest("base64url");

/** A GitHub user and their addresses, as /user and /user/emails answer. */
function githubProfile({ id = 1001, login = "octocat", name = "The Octocat", email = `${login}@users.example`, verified = true, primary = true, emails } = {}) {
  return { user: { id, login, name }, emails: emails ?? [{ email, primary, verified, visibility: "private" }] };
}

/**
 * Starts the fake. Settable at any time: `redirectUri` (the exact one required), `profile` (who the next
 * authorization signs in), `deny` (authorize answers error=access_denied), `tokenError` (every code is "bad"),
 * `hangToken` (the token endpoint never answers), `failApi` (/user answers 502). `requests` lists what it saw.
 */
async function startFakeGitHub({ clientId = "fake-client-id", clientSecret = "fake-client-secret", redirectUri = null, profile = githubProfile() } = {}) {
  const grants = new Map(); // code → what the authorization was for
  const tokens = new Map(); // access token → profile
  const fake = { clientId, clientSecret, redirectUri, profile, deny: false, tokenError: false, hangToken: false, failApi: false, requests: [] };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    let body = "";
    for await (const chunk of req) body += chunk;
    const form = Object.fromEntries(new URLSearchParams(body));
    const query = Object.fromEntries(url.searchParams);
    fake.requests.push({ method: req.method, path: url.pathname, query, headers: req.headers, form });
    const json = (status, value) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));

    if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
      const wellFormed = query.client_id === clientId && query.redirect_uri === fake.redirectUri && query.response_type === "code" &&
        query.code_challenge_method === "S256" && /^[A-Za-z0-9_-]{43}$/.test(query.code_challenge ?? "") && Boolean(query.state);
      if (!wellFormed) return res.writeHead(400, { "Content-Type": "text/plain" }).end("fake GitHub: bad authorize request");
      const back = new URL(fake.redirectUri);
      if (fake.deny) {
        back.searchParams.set("error", "access_denied");
        back.searchParams.set("error_description", "The user has denied your application access.");
      } else {
        const code = random(15);
        grants.set(code, { challenge: query.code_challenge, redirectUri: query.redirect_uri, profile: structuredClone(fake.profile) });
        back.searchParams.set("code", code);
      }
      back.searchParams.set("state", query.state);
      return res.writeHead(302, { Location: back.href }).end();
    }
    if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
      if (fake.hangToken) return; // never answers: the API's timer must give up
      if (req.headers.authorization !== `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`) return json(200, { error: "incorrect_client_credentials" });
      const grant = grants.get(form.code);
      grants.delete(form.code); // a code is good once, right or wrong
      const right = grant && form.grant_type === "authorization_code" && form.redirect_uri === grant.redirectUri && sha256url(form.code_verifier ?? "") === grant.challenge;
      if (fake.tokenError || !right) return json(200, { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
      const token = `gho_${random(27)}`;
      tokens.set(token, grant.profile);
      return json(200, { access_token: token, token_type: "bearer", scope: "read:user,user:email" });
    }
    if (req.method === "GET" && (url.pathname === "/user" || url.pathname === "/user/emails")) {
      const who = tokens.get(/^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1]);
      if (!who) return json(401, { message: "Bad credentials" });
      if (fake.failApi) return json(502, { message: "Server Error" });
      return json(200, url.pathname === "/user" ? who.user : who.emails);
    }
    json(404, { message: "Not Found" });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  fake.url = `http://127.0.0.1:${server.address().port}`;
  fake.close = () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections(); // a hanging token request included
    return closed;
  };
  return fake;
}

module.exports = { startFakeGitHub, githubProfile };

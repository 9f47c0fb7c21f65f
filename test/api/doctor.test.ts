// `npm run doctor` (README › Troubleshooting): each broken deployment is built on purpose — a real API on a free
// port, sometimes behind a small proxy that breaks it — and the doctor must name it with the right fix.
// A healthy setup must come out all ✔, and the password must never appear in what it prints.
import { execFile } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import pino from "pino";
import { PROJECT_ROOT } from "../../backend/config";
import { runDoctor, type DoctorOptions } from "../../backend/doctor/doctor";
import { renderJson, renderText } from "../../backend/doctor/render";
import type { Check, Report } from "../../backend/doctor/report";
import { startApi, type RunningApi } from "../../backend/server";
import { ALLOWED_ORIGIN, freshDatabaseUrl, TEST_SECRET, testConfig } from "./helpers";

// The doctor reads the same environment as the API: the variables testConfig gives every test API.
const BASE_ENV = { NODE_ENV: "test", JWT_SECRET: TEST_SECRET, ALLOWED_ORIGINS: `${ALLOWED_ORIGIN},http://127.0.0.1:4100` };

let api: RunningApi | null = null;
const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await api?.shutdown();
  api = null;
});

async function startTestApi(env: Record<string, string> = {}): Promise<string> {
  api = await startApi(testConfig({ PORT: "0", ...env }, await freshDatabaseUrl()), pino({ level: "silent" }));
  return api.url;
}

function listen(server: http.Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`)));
}

/** A reverse proxy in front of `target` that can add request headers and edit the answer's headers. */
function startProxy(target: string, edit: { request?: Record<string, string>; response?: (headers: http.IncomingHttpHeaders) => void }): Promise<string> {
  return listen(
    http.createServer((req, res) => {
      const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: { ...req.headers, ...edit.request } }, (answer) => {
        const headers = { ...answer.headers };
        edit.response?.(headers);
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
    }),
  );
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const doctor = (options: Partial<DoctorOptions> & { env?: Record<string, string> }) =>
  runDoctor({ ...options, env: { ...BASE_ENV, ...options.env }, timeoutMs: 3_000 });

function check(report: Report, id: string): Check {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}; the report has: ${report.checks.map((c) => `${c.id}=${c.status}`).join(", ")}`);
  return found;
}

const notOk = (report: Report) => report.checks.filter((c) => c.status !== "ok").map((c) => `${c.status} ${c.id}: ${c.detail}`);

describe("a healthy setup", () => {
  it("gives every check ✔, the live ones included, and leaves the session ended", async () => {
    const url = await startTestApi();
    const report = await doctor({ api: url });
    expect(notOk(report)).toEqual([]);
    // Both pages are checked, and every live step ran.
    expect(report.frontends).toEqual(["http://localhost:4100", "http://127.0.0.1:4100"]);
    for (const id of ["api", "proxy", "preflight:http://localhost:4100", "preflight:http://127.0.0.1:4100", "foreign-origin", "login", "session-cookie", "cookie-partitioned", "session", "logout"]) {
      expect([id, check(report, id).status]).toEqual([id, "ok"]);
    }
    // The API is on 127.0.0.1: the localhost page is cross-site to it, the 127.0.0.1 page same-site.
    expect(check(report, "relation:http://localhost:4100").detail).toMatch(/^cross-site/);
    expect(check(report, "relation:http://127.0.0.1:4100").detail).toMatch(/^same site/);
    expect(check(report, "logout").detail).toMatch(/token no longer works/);
  });

  it("logs in with the account it is given (--uid/--password), never printing the password", async () => {
    const password = "Quasar-Marble-7731";
    const url = await startTestApi({ ADMIN_UID: "doctor-admin", ADMIN_PASSWORD: password });
    const report = await doctor({ api: url, uid: "doctor-admin", password });
    expect(notOk(report)).toEqual([]);
    expect(check(report, "login").title).toMatch(/doctor-admin/);
    expect(renderText(report)).not.toContain(password);
    expect(renderJson(report)).not.toContain(password);
  });
});

describe("missing Partitioned for a cross-site page", () => {
  it("is named from configuration alone: a github.io page is its own site", async () => {
    const report = await doctor({ env: { COOKIE_PARTITIONED: "false", ALLOWED_ORIGINS: "https://you.github.io" }, api: "https://api.example.com", live: false });
    expect(check(report, "relation:https://you.github.io").detail).toMatch(/^cross-site/);
    const partitioned = check(report, "partitioned:https://you.github.io");
    expect(partitioned.status).toBe("fail");
    expect(partitioned.fix).toMatch(/COOKIE_PARTITIONED=true/);
  });

  it("is named from the live cookie: the login's Set-Cookie has no Partitioned", async () => {
    const url = await startTestApi({ COOKIE_PARTITIONED: "false" });
    // The doctor's own configuration says true: the live check trusts only what the API sent.
    const report = await doctor({ api: url });
    const partitioned = check(report, "cookie-partitioned");
    expect(partitioned).toMatchObject({ status: "fail", fix: expect.stringMatching(/COOKIE_PARTITIONED=true/) });
    expect(partitioned.detail).toMatch(/http:\/\/localhost:4100 is cross-site/);
  });

  it("is fine without Partitioned when every page is same-site", async () => {
    const report = await doctor({ env: { COOKIE_PARTITIONED: "false", ALLOWED_ORIGINS: "https://app.example.com" }, api: "https://api.example.com", live: false });
    expect(check(report, "relation:https://app.example.com").detail).toMatch(/^same site/);
    expect(notOk(report)).toEqual([]);
  });
});

describe("ALLOWED_ORIGINS entries that are not what a browser sends", () => {
  it.each([
    ["https://you.github.io/", /remove the trailing slash: https:\/\/you\.github\.io$/],
    ["localhost:4100", /with its scheme: http:\/\/localhost:4100$/],
    ["https://app.example.com:443", /default port .*write https:\/\/app\.example\.com$/],
    ["https://app.example.com/login.html", /no path: https:\/\/app\.example\.com$/],
    ["https://*.example.com", /exact origin/],
  ])("names '%s' with its fix, once", async (entry, fix) => {
    const report = await doctor({ env: { ALLOWED_ORIGINS: entry }, api: "https://api.example.com", live: false });
    const found = check(report, `allowed-origins:${entry}`);
    expect(found.status).toBe("fail");
    expect(found.fix).toMatch(/^in ALLOWED_ORIGINS, /);
    expect(found.fix).toMatch(fix);
    // The API refuses to start with such an entry too; that refusal is not repeated in other words.
    expect(report.checks.filter((c) => c.id.startsWith("refusal:ALLOWED_ORIGINS"))).toEqual([]);
  });
});

describe("a page origin the API does not allow", () => {
  it("is named statically and by the live preflight, each with ALLOWED_ORIGINS in the fix", async () => {
    const url = await startTestApi();
    const report = await doctor({ api: url, frontends: ["http://localhost:5999"] });
    expect(check(report, "not-allowed:http://localhost:5999")).toMatchObject({ status: "fail", fix: expect.stringMatching(/add http:\/\/localhost:5999 to ALLOWED_ORIGINS/) });
    const preflight = check(report, "preflight:http://localhost:5999");
    expect(preflight).toMatchObject({ status: "fail", detail: expect.stringMatching(/ORIGIN_NOT_ALLOWED/), fix: expect.stringMatching(/ALLOWED_ORIGINS/) });
    // The cookie is still checked, with a request as curl would send it.
    expect(check(report, "login").title).toMatch(/without an Origin/);
    expect(check(report, "session-cookie").status).toBe("ok");
  });
});

describe("an API on plain http", () => {
  it("fails for a real host (the Secure cookie is refused, and an https page may not call it)", async () => {
    const report = await doctor({ env: { ALLOWED_ORIGINS: "https://you.github.io" }, api: "http://api.example.com", live: false });
    const transport = check(report, "transport");
    expect(transport.status).toBe("fail");
    expect(transport.detail).toMatch(/plain http .*Secure session cookie.*mixed content/);
    expect(transport.fix).toMatch(/HTTPS.*https:\/\/api\.example\.com/);
  });

  it("is fine on loopback", async () => {
    const report = await doctor({ api: "http://localhost:8587", live: false });
    expect(check(report, "transport").status).toBe("ok");
  });
});

describe("passkeys", () => {
  it("names a page on an IP address that is not the localhost page's other name, with where passkeys do work", async () => {
    const report = await doctor({ env: { ALLOWED_ORIGINS: "http://localhost:4100,http://127.0.0.1:5100" }, api: "http://localhost:8587", live: false });
    expect(check(report, "passkeys-rp-id")).toMatchObject({ status: "ok", detail: expect.stringMatching(/relying-party ID is localhost/) });
    expect(check(report, "passkeys-page:http://localhost:4100").status).toBe("ok");
    expect(check(report, "passkeys-page:http://127.0.0.1:5100")).toMatchObject({
      status: "warn",
      detail: expect.stringMatching(/IP address \(127\.0\.0\.1\)/),
      fix: expect.stringMatching(/^Open the site at http:\/\/localhost:4100 to use passkeys/),
    });
  });

  it("takes 127.0.0.1 as the other name of a localhost page: no warning, and the detail says it signs in with the password", async () => {
    const report = await doctor({ env: { ALLOWED_ORIGINS: "http://localhost:4100,http://127.0.0.1:4100" }, api: "http://localhost:8587", live: false });
    expect(check(report, "passkeys-page:http://127.0.0.1:4100")).toMatchObject({ status: "ok", detail: expect.stringMatching(/IP address.*uses the password/) });
  });

  it("fails a WEBAUTHN_RP_ID that is the API's host, not the pages'", async () => {
    const report = await doctor({ env: { ALLOWED_ORIGINS: "https://app.example.com", WEBAUTHN_RP_ID: "api.example.com" }, api: "https://api.example.com", live: false });
    expect(check(report, "passkeys-origins")).toMatchObject({ status: "fail", fix: expect.stringMatching(/WEBAUTHN_RP_ID/) });
    expect(check(report, "passkeys-page:https://app.example.com").status).toBe("warn");
  });
});

describe("a proxy in front of the API", () => {
  it("that strips Set-Cookie is named, with the header to let through", async () => {
    const url = await startTestApi();
    const proxied = await startProxy(url, { response: (headers) => delete headers["set-cookie"] });
    const report = await doctor({ api: proxied });
    expect(check(report, "login").status).toBe("ok");
    const cookie = check(report, "session-cookie");
    expect(cookie.status).toBe("fail");
    expect(cookie.detail).toMatch(/no Set-Cookie header/);
    expect(cookie.fix).toMatch(/proxy .*removes Set-Cookie/);
    expect(report.checks.some((c) => c.id === "session")).toBe(false);
  });

  it("that the API does not trust (TRUST_PROXY=false) is a warning naming TRUST_PROXY; trusted, it is fine", async () => {
    // A TLS-terminating proxy says so with X-Forwarded-Proto; `Via` shows it is there.
    const asTlsProxy = { request: { "X-Forwarded-Proto": "https" }, response: (headers: http.IncomingHttpHeaders) => void (headers.via = "1.1 test-proxy") };
    const untrusted = await doctor({ api: await startProxy(await startTestApi(), asTlsProxy) });
    expect(check(untrusted, "proxy")).toMatchObject({ status: "warn", fix: expect.stringMatching(/TRUST_PROXY=true/) });
    await api?.shutdown();
    const trusted = await doctor({ api: await startProxy(await startTestApi({ TRUST_PROXY: "true" }), asTlsProxy) });
    expect(check(trusted, "proxy").status).toBe("ok");
  });
});

describe("wrong credentials", () => {
  it("from --uid/--password: ✖ naming them, without the password anywhere", async () => {
    const url = await startTestApi();
    const password = "Not-The-Password-9182";
    const report = await doctor({ api: url, uid: "user", password });
    expect(check(report, "login")).toMatchObject({ status: "fail", detail: expect.stringMatching(/INVALID_CREDENTIALS/), fix: expect.stringMatching(/--uid and --password/) });
    for (const output of [renderText(report), renderJson(report)]) expect(output).not.toContain(password);
  });

  it("from DOCTOR_UID/DOCTOR_PASSWORD, or the demo account when DEMO_USERS=false: ✖ naming DOCTOR_UID/DOCTOR_PASSWORD", async () => {
    const url = await startTestApi({ DEMO_USERS: "false" });
    const fromEnv = await doctor({ api: url, env: { DOCTOR_UID: "user", DOCTOR_PASSWORD: "Wrong-Horse-4471" } });
    expect(check(fromEnv, "login").fix).toMatch(/check DOCTOR_UID and DOCTOR_PASSWORD/);
    const demo = await doctor({ api: url });
    expect(check(demo, "login")).toMatchObject({ status: "fail", fix: expect.stringMatching(/DEMO_USERS=false.*DOCTOR_UID and DOCTOR_PASSWORD/) });
  });

  it("in production without DOCTOR_UID/DOCTOR_PASSWORD: the login is not tried, and a warning says what to set", async () => {
    const url = await startTestApi();
    const report = await doctor({ api: url, env: { NODE_ENV: "production" } });
    expect(check(report, "login")).toMatchObject({ status: "warn", fix: expect.stringMatching(/DOCTOR_UID and DOCTOR_PASSWORD/) });
  });
});

describe("the API down", () => {
  it("is one clear ✖ (connection refused) with the fix, and no other live check", async () => {
    const report = await doctor({ api: `http://127.0.0.1:${await closedPort()}` });
    const live = report.checks.filter((c) => c.group === "live");
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ id: "api", status: "fail", detail: expect.stringMatching(/API down: connection refused/), fix: expect.stringMatching(/start the API/) });
  });
});

describe("a configuration the API refuses", () => {
  it("does not stop the doctor: each refusal is a ✖ with its fix, and the other checks still run", async () => {
    const report = await doctor({
      env: { NODE_ENV: "production", JWT_SECRET: "", ALLOWED_ORIGINS: "", ADMIN_UID: "admin", ADMIN_PASSWORD: "password", PORT: "eighty" },
      api: "https://api.example.com",
      frontends: ["https://you.github.io"],
      live: false,
    });
    for (const variable of ["PORT", "JWT_SECRET", "ALLOWED_ORIGINS", "ADMIN_PASSWORD"]) {
      expect([variable, check(report, `refusal:${variable}`).status]).toEqual([variable, "fail"]);
    }
    expect(check(report, "refusal:JWT_SECRET").fix).toMatch(/randomBytes/);
    expect(check(report, "relation:https://you.github.io").status).toBe("ok");
  });
});

describe("the CLI", () => {
  const tsx = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
  const cliPath = path.join(PROJECT_ROOT, "backend", "doctor", "cli.ts");
  function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    // Only the variables given here: the jest process's own environment must not change the verdict.
    const childEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", CROSSAUTH_ENV_FILE: "off", ...BASE_ENV, ...env };
    return new Promise((resolve) => {
      execFile(process.execPath, [tsx, cliPath, ...args], { cwd: PROJECT_ROOT, env: childEnv }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      );
    });
  }

  it("exits 0 with ✔ lines for a healthy API, and 1 with one ✖ when it is down", async () => {
    const url = await startTestApi();
    const healthy = await cli(["--api", url]);
    expect(healthy.stdout).toMatch(/✔ Set-Cookie __Host-jwt_token — /);
    expect(healthy.stdout).not.toMatch(/^ {2}[✖!] /m);
    expect(healthy.stdout).toMatch(/\n0 problems \(✖\), 0 warnings \(!\), 22 fine \(✔\)\.\n$/);
    expect(healthy.code).toBe(0);

    const down = await cli(["--api", `http://127.0.0.1:${await closedPort()}`]);
    expect(down.stdout).toMatch(/✖ API at .* — API down: connection refused.*\n {6}fix: start the API/);
    expect(down.code).toBe(1);
  }, 60_000);

  it("prints one JSON document with --json, never the password, and exits 1 on a ✖", async () => {
    const url = await startTestApi();
    const password = "Lantern-Orbit-5520";
    const { code, stdout, stderr } = await cli(["--api", url, "--json", "--uid", "user", "--password", password]);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c: Check) => c.id === "login")).toMatchObject({ status: "fail", title: expect.any(String), detail: expect.any(String), fix: expect.any(String) });
    expect(report.summary.fail).toBeGreaterThan(0);
    expect(stdout + stderr).not.toContain(password);
    expect(code).toBe(1);
  }, 60_000);

  it("exits 2 with its usage for an argument it cannot use", async () => {
    const { code, stderr } = await cli(["--frontend", "not an origin"]);
    expect(stderr).toMatch(/--frontend not an origin[\s\S]*Usage: npm run doctor/);
    expect(code).toBe(2);
  });
});

// Fixtures of the GitHub sign-in tests: the fake GitHub (test/lib/fake-github.cjs) and the flow's steps as a
// browser takes them — start (a top-level visit), GitHub's authorize page, the callback, the page's exchange.
import crypto from "node:crypto";
import { ALLOWED_ORIGIN, sessionCookieOf, type TestApp } from "../helpers";

export interface GitHubProfile {
  user: { id: number; login: string; name: string | null };
  emails: Array<{ email: string; primary: boolean; verified: boolean; visibility?: string | null }>;
}

export interface FakeGitHub {
  url: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string | null;
  profile: GitHubProfile;
  deny: boolean;
  tokenError: boolean;
  hangToken: boolean;
  failApi: boolean;
  requests: Array<{ method: string; path: string; query: Record<string, string>; headers: Record<string, string | undefined>; form: Record<string, string> }>;
  close(): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fakeGitHub = require("../../lib/fake-github.cjs") as {
  startFakeGitHub(options?: { clientId?: string; clientSecret?: string; redirectUri?: string; profile?: GitHubProfile }): Promise<FakeGitHub>;
  githubProfile(options?: { id?: number; login?: string; name?: string | null; email?: string; verified?: boolean; primary?: boolean; emails?: GitHubProfile["emails"] }): GitHubProfile;
};
export const { githubProfile } = fakeGitHub;

export const PUBLIC_API_URL = "http://localhost:8587";
export const CALLBACK_URL = `${PUBLIC_API_URL}/api/oauth/github/callback`;
/** The page GitHub sign-ins come back to in these tests (ALLOWED_ORIGIN is in the test configuration). */
export const PAGE = `${ALLOWED_ORIGIN}/oauth-callback.html`;
export const STATE_COOKIE = "__Host-oauth_state";

export function startFakeGitHub(profile?: GitHubProfile): Promise<FakeGitHub> {
  return fakeGitHub.startFakeGitHub({ redirectUri: CALLBACK_URL, profile });
}

/** The configuration that points the app at `fake` (GitHub's base URLs default to the real GitHub). */
export function githubEnv(fake: { url: string; clientId: string; clientSecret: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_CLIENT_ID: fake.clientId,
    GITHUB_CLIENT_SECRET: fake.clientSecret,
    GITHUB_OAUTH_BASE_URL: fake.url,
    GITHUB_API_BASE_URL: fake.url,
    PUBLIC_API_URL,
    ...extra,
  };
}

/** What the page makes before `start`: a random nonce (kept in sessionStorage) and its base64url SHA-256. */
export function newNonce(): { nonce: string; nonceHash: string } {
  const nonce = crypto.randomBytes(32).toString("base64url");
  return { nonce, nonceHash: crypto.createHash("sha256").update(nonce).digest("base64url") };
}

export function startRequest(t: TestApp, query: Record<string, string>) {
  return t.http().get(`/api/oauth/github/start?${new URLSearchParams(query)}`);
}

/** The `name=value` of the state cookie `start` set. */
export const stateCookieOf = (res: { headers: Record<string, unknown> }) => sessionCookieOf(res, STATE_COOKIE);

/** The browser at GitHub's authorize page (which approves at once): where GitHub sends it back. */
export async function authorize(authorizeUrl: string): Promise<URL> {
  const res = await fetch(authorizeUrl, { redirect: "manual" });
  if (res.status !== 302) throw new Error(`the fake GitHub refused the authorize request: ${res.status} ${await res.text()}`);
  return new URL(res.headers.get("location") as string);
}

/** The callback request as the browser makes it: the URL GitHub sent it to, with the state cookie when given. */
export function callbackRequest(t: TestApp, url: URL, cookie?: string) {
  const req = t.http().get(url.pathname + url.search);
  return cookie ? req.set("Cookie", cookie) : req;
}

/** The fragment of a redirect to the page, as the page reads it. */
export function fragmentOf(location: string): Record<string, string> {
  const url = new URL(location);
  return Object.fromEntries(new URLSearchParams(url.hash.slice(1)));
}

export interface GitHubFlow {
  nonce: string;
  state: string;
  cookie: string;
  /** The redirect the callback answered. */
  location: string;
  fragment: Record<string, string>;
}

/** start → GitHub → callback, as one browser: the callback's answer must be a redirect to the page. */
export async function githubFlow(t: TestApp, { returnTo = PAGE, ticket }: { returnTo?: string; ticket?: string } = {}): Promise<GitHubFlow> {
  const { nonce, nonceHash } = newNonce();
  const started = await startRequest(t, { return_to: returnTo, nonce_hash: nonceHash, ...(ticket ? { ticket } : {}) });
  if (started.status !== 302) throw new Error(`start answered ${started.status} ${JSON.stringify(started.body)}`);
  const cookie = stateCookieOf(started);
  const state = new URL(started.headers.location).searchParams.get("state") as string;
  const back = await authorize(started.headers.location);
  const res = await callbackRequest(t, back, cookie);
  if (res.status !== 302) throw new Error(`callback answered ${res.status} ${JSON.stringify(res.body)}`);
  return { nonce, state, cookie, location: res.headers.location, fragment: fragmentOf(res.headers.location) };
}

/** The page's exchange: a fetch with the page's Origin. */
export function exchangeRequest(t: TestApp, body: object, origin: string | null = ALLOWED_ORIGIN) {
  const req = t.http().post("/api/oauth/exchange");
  return (origin === null ? req : req.set("Origin", origin)).send(body);
}

/** A whole sign-in with GitHub as `fake.profile`; returns the session cookie and the login body. */
export async function signInWithGitHub(t: TestApp) {
  const flow = await githubFlow(t);
  if (!flow.fragment.code) throw new Error(`the callback sent the page ${flow.location}`);
  const res = await exchangeRequest(t, { code: flow.fragment.code, nonce: flow.nonce });
  if (res.status !== 200) throw new Error(`exchange answered ${res.status} ${JSON.stringify(res.body)}`);
  return { cookie: sessionCookieOf(res), body: res.body, flow };
}

/** A link flow for the signed-in `cookie`: POST link, then start with its ticket, GitHub, callback. */
export async function linkGitHub(t: TestApp, cookie: string, currentPassword?: string): Promise<GitHubFlow> {
  const res = await t.http().post("/api/oauth/github/link").set("Cookie", cookie).send({ returnTo: PAGE, ...(currentPassword === undefined ? {} : { currentPassword }) });
  if (res.status !== 200) throw new Error(`link answered ${res.status} ${JSON.stringify(res.body)}`);
  const ticket = new URL(res.body.url).searchParams.get("ticket") as string;
  return githubFlow(t, { ticket });
}

/** Every Set-Cookie line of a response. */
export const setCookies = (res: { headers: Record<string, unknown> }) => (res.headers["set-cookie"] as string[] | undefined) ?? [];

// Sign in with GitHub (docs/github.md): the one-time tokens of the flow (state, login code, link ticket), which
// account a GitHub user is (the five rules), linking and unlinking. The browser's side — navigations, cookies,
// fragments — is oauth.routes.ts's.
import crypto from "node:crypto";
import type { Config } from "../config";
import { serializable, type Db } from "../db";
import { AppError } from "../errors";
import type { OneTimeTokens } from "../auth/one-time-tokens";
import { publicFields, toPublic } from "../users/users.service";
import { uidKeyOf, type PublicUser } from "../users/user.model";
import { uid as uidSchema } from "../users/users.schemas";
import { Prisma } from "../../generated/sqlite/client";
import { createGitHubClient, GitHubFailure, type GitHubClient, type GitHubUser } from "./github.client";
import { sameSecret, STATE_TTL_SECONDS } from "./state-cookie";

const PROVIDER = "github";
/** The code in the callback's fragment: the page exchanges it at once. */
export const LOGIN_CODE_TTL_SECONDS = 60;
/** The ticket in the URL `link` hands out: the page navigates to it at once. */
export const LINK_TICKET_TTL_SECONDS = 120;
/** base64url of 32 bytes (a SHA-256): what `nonce_hash` must look like. */
export const NONCE_HASH = /^[A-Za-z0-9_-]{43}$/;

/** A link flow names its user (a session cookie is not sent on a cross-site top-level visit) and the token
 * version it was asked with: a password change or logout-everywhere in between ends it. */
interface LinkIntent {
  userId: number;
  ver: number;
}

/** The state row: everything the callback needs, kept here and never read from the callback's query. */
export interface OAuthState {
  verifier: string;
  returnTo: string;
  nonceHash: string;
  link: LinkIntent | null;
}

/** How a GitHub sign-in found its account (logged). */
export type AccountRule = "linked" | "verified_email" | "created";

export type CallbackOutcome =
  | { kind: "login"; code: string; uid: string; rule: AccountRule; github: string }
  | { kind: "linked"; uid: string; github: string };

type LoginUser = PublicUser & { tokenVersion: number };

export type OAuthService = ReturnType<typeof createOAuthService>;

export interface OAuthDeps {
  config: Pick<Config, "github" | "publicApiUrl" | "allowedOrigins" | "signupEnabled">;
  db: Db;
  oneTimeTokens: OneTimeTokens;
  now?: () => number;
}

const isUniqueViolation = (err: unknown) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";

const sha256url = (text: string) => crypto.createHash("sha256").update(text).digest("base64url");

/** A name for a new account: GitHub's display name when it fits the name rule (2–100 characters), else the login. */
function displayName(github: GitHubUser): string {
  const name = github.name?.trim() ?? "";
  if (name.length >= 2) return name.slice(0, 100);
  return github.login;
}

const accountExists = (message?: string) => new AppError("OAUTH_ACCOUNT_EXISTS", message);

export function createOAuthService({ config, db, oneTimeTokens, now = Date.now }: OAuthDeps) {
  const { prisma } = db;
  const allowedOrigins = new Set(config.allowedOrigins);
  const github: GitHubClient | null =
    config.github && config.publicApiUrl ? createGitHubClient(config.github, `${config.publicApiUrl}/api/oauth/github/callback`) : null;
  const githubAccount = (providerUserId: string) => ({ provider_providerUserId: { provider: PROVIDER, providerUserId } });
  const linkWhere = (userId: number) => ({ provider_userId: { provider: PROVIDER, userId } });

  /** 404 when GitHub sign-in is not configured: the routes then do not exist, as far as clients can tell. */
  function requireGitHub(): GitHubClient {
    if (!github) throw new AppError("NOT_FOUND", "Sign in with GitHub is not configured on this server");
    return github;
  }

  async function loginUser(userId: number): Promise<LoginUser | null> {
    const found = await prisma.user.findUnique({ where: { id: userId }, select: { ...publicFields, tokenVersion: true } });
    return found ? { ...toPublic(found), tokenVersion: found.tokenVersion } : null;
  }

  /** Rule (2): attaches the GitHub id to `userId`, unless it is linked to another account or `userId` to another GitHub account. */
  async function attach(userId: number, gh: GitHubUser): Promise<void> {
    const providerUserId = String(gh.id);
    try {
      await serializable(db, async (tx) => {
        const existing = await tx.oAuthAccount.findUnique({ where: githubAccount(providerUserId) });
        if (existing && existing.userId !== userId) throw accountExists("This GitHub account is already linked to another account here");
        if (existing) {
          if (existing.login !== gh.login) await tx.oAuthAccount.update({ where: githubAccount(providerUserId), data: { login: gh.login } });
          return;
        }
        const other = await tx.oAuthAccount.findUnique({ where: linkWhere(userId), select: { login: true } });
        if (other) throw accountExists(`Your account is already linked to the GitHub account @${other.login}: unlink it first`);
        await tx.oAuthAccount.create({ data: { provider: PROVIDER, providerUserId, userId, login: gh.login } });
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw accountExists("This GitHub account is already linked to another account here");
      throw err;
    }
  }

  /**
   * The account a GitHub user signs in to (docs/github.md › Accounts), in the rules' order: (1) their link, by
   * numeric id; (3) never a local account whose uid is their login; (4) with OAUTH_LINK_BY_VERIFIED_EMAIL, the one
   * account whose verified address is their verified primary one; (5) a new account when signup is on.
   * (Rule 2, a link ticket, is attach() called by complete().)
   */
  async function resolveAccount(gh: GitHubUser, attempt = 1): Promise<{ userId: number; rule: AccountRule }> {
    const providerUserId = String(gh.id);
    const linked = await prisma.oAuthAccount.findUnique({ where: githubAccount(providerUserId), select: { userId: true, login: true } });
    if (linked) {
      // GitHub logins can be renamed: the stored one is for display, kept current.
      if (linked.login !== gh.login) await prisma.oAuthAccount.updateMany({ where: { provider: PROVIDER, providerUserId }, data: { login: gh.login } });
      return { userId: linked.userId, rule: "linked" };
    }
    // The same uid is not proof of the same person (anyone can register any free GitHub login): no takeover.
    if (await prisma.user.findUnique({ where: { uidKey: uidKeyOf(gh.login) }, select: { id: true } })) {
      throw accountExists(`An account with the GitHub ID ${gh.login} already exists here: log in with your password and link GitHub from your profile`);
    }
    if (config.github?.linkByVerifiedEmail && gh.verifiedEmail) {
      const matches = await prisma.user.findMany({ where: { emailKey: gh.verifiedEmail.toLowerCase(), emailVerifiedAt: { not: null } }, select: { id: true }, take: 2 });
      if (matches.length === 1) {
        await attach(matches[0].id, gh);
        return { userId: matches[0].id, rule: "verified_email" };
      }
    }
    if (!config.signupEnabled) throw new AppError("SIGNUP_DISABLED");
    if (!gh.verifiedEmail) throw new AppError("OAUTH_EMAIL_UNVERIFIED");
    // GitHub logins are 1–39 characters of letters, digits and '-'; a uid needs at least 2.
    if (!uidSchema.safeParse(gh.login).success) throw new GitHubFailure("the GitHub login does not fit the uid rules");
    try {
      const created = await prisma.user.create({
        data: {
          uid: gh.login,
          uidKey: uidKeyOf(gh.login),
          name: displayName(gh),
          email: gh.verifiedEmail,
          emailKey: gh.verifiedEmail.toLowerCase(),
          emailVerifiedAt: new Date(now()), // GitHub verified it
          role: "User",
          passwordHash: null, // until its owner sets one through a password reset
          oauthAccounts: { create: { provider: PROVIDER, providerUserId, login: gh.login } },
        },
        select: { id: true },
      });
      return { userId: created.id, rule: "created" };
    } catch (err) {
      // A parallel callback of the same person made the account (rule 1 now finds it), or a signup took the uid.
      if (isUniqueViolation(err) && attempt === 1) return resolveAccount(gh, 2);
      if (isUniqueViolation(err)) throw accountExists();
      throw err;
    }
  }

  return {
    /** Whether GitHub sign-in is configured (GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET). */
    available: github !== null,

    /** Where pages send people to start (always the public API URL: the callback must find the state cookie there). */
    startUrl: config.publicApiUrl ? `${config.publicApiUrl}/api/oauth/github/start` : null,

    requireGitHub,

    /**
     * `value` as an absolute http(s) URL on one of ALLOWED_ORIGINS (its fragment dropped: ours goes there), or
     * null. Relative and scheme-relative values ("/x", "//evil"), other schemes ("javascript:") and credentials
     * never pass: an open redirect would hand the login code to another site.
     */
    allowedReturnTo(value: unknown): string | null {
      if (typeof value !== "string" || value.length > 2000 || !URL.canParse(value)) return null;
      const url = new URL(value);
      if (!/^https?:$/.test(url.protocol) || url.username !== "" || url.password !== "" || !allowedOrigins.has(url.origin)) return null;
      url.hash = "";
      return url.href;
    },

    /** A one-time ticket naming the signed-in user, for the `start` URL of a link flow. */
    issueLinkTicket(user: { id: number }, tokenVersion: number): Promise<string> {
      return oneTimeTokens.issue("oauth_link", { userId: user.id, data: { ver: tokenVersion }, ttlSeconds: LINK_TICKET_TTL_SECONDS });
    },

    /** Spends a link ticket: the intent it carries, or null (unknown, used, expired). */
    async redeemLinkTicket(ticket: unknown): Promise<LinkIntent | null> {
      const row = await oneTimeTokens.consume<{ ver: number }>(ticket, "oauth_link");
      return row?.userId != null && typeof row.data?.ver === "number" ? { userId: row.userId, ver: row.data.ver } : null;
    },

    /** A new state row (the state is its token) and the GitHub URL to send the browser to. */
    async begin(input: { returnTo: string; nonceHash: string; link: LinkIntent | null }): Promise<{ state: string; url: string }> {
      const client = requireGitHub();
      const data: OAuthState = { verifier: client.newVerifier(), ...input };
      const state = await oneTimeTokens.issue("oauth_state", { userId: input.link?.userId ?? null, data, ttlSeconds: STATE_TTL_SECONDS });
      return { state, url: client.authorizeUrl(state, data.verifier) };
    },

    /** Spends the state row `state` names: its payload for exactly one callback, null for every other. */
    async takeState(state: unknown): Promise<OAuthState | null> {
      return (await oneTimeTokens.consume<OAuthState>(state, "oauth_state"))?.data ?? null;
    },

    /**
     * The callback's work once the state checked out: GitHub's code exchanged (with the PKCE verifier), the
     * GitHub user read, and then either the link of a link flow made, or the account found (or made) and a
     * one-time login code issued, bound to the page's nonce. Refusals are AppErrors with the codes the callback
     * puts in the fragment.
     */
    async complete(state: OAuthState, code: string): Promise<CallbackOutcome> {
      const gh = await requireGitHub().fetchUser(code, state.verifier);
      if (state.link) {
        const user = await loginUser(state.link.userId);
        // The account is gone, or its sessions were ended (password change, logout everywhere) since the ticket.
        if (!user || user.tokenVersion !== state.link.ver) throw new AppError("OAUTH_STATE_INVALID");
        await attach(user.id, gh);
        return { kind: "linked", uid: user.uid, github: gh.login };
      }
      const { userId, rule } = await resolveAccount(gh);
      const user = await loginUser(userId);
      if (!user) throw new AppError("OAUTH_STATE_INVALID"); // deleted in between
      const loginCode = await oneTimeTokens.issue("oauth_login", { userId, data: { nonceHash: state.nonceHash }, ttlSeconds: LOGIN_CODE_TTL_SECONDS });
      return { kind: "login", code: loginCode, uid: user.uid, rule, github: gh.login };
    },

    /**
     * Spends a login code for the page that holds the flow's nonce: the user to sign in, or 400
     * LOGIN_CODE_INVALID (unknown, used, expired, or another page's nonce). The code is spent first, with one
     * atomic statement: of N parallel exchanges one gets the row, and a wrong nonce has still used it up.
     */
    async exchange(code: string, nonce: string): Promise<LoginUser> {
      const row = await oneTimeTokens.consume<{ nonceHash: string }>(code, "oauth_login");
      const expected = row?.data?.nonceHash;
      if (!row || row.userId === null || typeof expected !== "string" || !sameSecret(sha256url(nonce), expected)) throw new AppError("LOGIN_CODE_INVALID");
      const user = await loginUser(row.userId);
      if (!user) throw new AppError("LOGIN_CODE_INVALID");
      return user;
    },

    /** The GitHub account linked to `userId`, if any. */
    async linkOf(userId: number): Promise<{ login: string; linkedAt: string } | null> {
      const link = await prisma.oAuthAccount.findUnique({ where: linkWhere(userId), select: { login: true, createdAt: true } });
      return link ? { login: link.login, linkedAt: link.createdAt.toISOString() } : null;
    },

    /**
     * Removes the GitHub link of `userId`: its login, or null when there was none. 409 LAST_LOGIN_METHOD when the
     * account would keep no password and no passkey. Check and delete share one serializable transaction, so a
     * passkey removed at the same moment cannot leave the account with no way in.
     */
    unlink(userId: number): Promise<string | null> {
      return serializable(db, async (tx) => {
        const link = await tx.oAuthAccount.findUnique({ where: linkWhere(userId), select: { login: true } });
        if (!link) return null;
        const user = await tx.user.findUnique({ where: { id: userId }, select: { passwordHash: true, _count: { select: { passkeys: true } } } });
        if (!user?.passwordHash && (user?._count.passkeys ?? 0) === 0) throw new AppError("LAST_LOGIN_METHOD");
        await tx.oAuthAccount.delete({ where: linkWhere(userId) });
        return link.login;
      });
    },
  };
}

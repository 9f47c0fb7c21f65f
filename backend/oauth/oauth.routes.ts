// Sign in with GitHub, the browser's side (docs/github.md › Routes): `start` and the callback are top-level
// visits to the API; the callback sets no session cookie but sends the page a one-time code after `#`, which the
// page exchanges by fetch — so the session cookie lands in the page's own partition, also across sites.
import type { ParameterizedContext } from "koa";
import { AppError, type ErrorCode } from "../errors";
import { fieldError, parse } from "../http/parse";
import type { AppRouter, AppState, SessionState } from "../http/state";
import type { Services } from "../services";
import { completeLogin } from "../auth/login";
import { reauthenticate } from "../auth/reauth";
import { GitHubFailure } from "./github.client";
import { NONCE_HASH } from "./oauth.service";
import { exchangeBody, linkBody } from "./oauth.schemas";
import { stateCookie } from "./state-cookie";

type OAuthServices = Pick<Services, "oauth" | "users" | "mfa" | "tokenRequired" | "loginIpLimit" | "accountLock" | "tokens" | "cookie" | "now">;

/** The refusals the callback hands the page in its fragment (`#error=CODE`) rather than as a JSON body. */
const FRAGMENT_ERRORS = new Set<ErrorCode>(["OAUTH_STATE_INVALID", "OAUTH_DENIED", "OAUTH_ACCOUNT_EXISTS", "OAUTH_EMAIL_UNVERIFIED", "OAUTH_FAILED", "SIGNUP_DISABLED"]);

/** A query parameter given exactly once, or undefined. */
const single = (value: string | string[] | undefined) => (typeof value === "string" ? value : undefined);

/**
 * Back to the page, with the outcome after `#`: a fragment never reaches a server (no log, no Referer), and the
 * page removes it from the address bar at once.
 */
function sendBack(ctx: ParameterizedContext<AppState>, returnTo: string, fragment: Record<string, string>) {
  ctx.redirect(`${returnTo}#${new URLSearchParams(fragment)}`);
}

export function oauthRoutes(router: AppRouter, s: OAuthServices): void {
  const { tokenRequired } = s;

  // Public: whether the login page shows "Sign in with GitHub", and where it sends people to start.
  router.get("/oauth/providers", (ctx) => {
    ctx.body = { github: s.oauth.available, githubStartUrl: s.oauth.available ? s.oauth.startUrl : null };
  });

  router.get("/oauth/github/start", async (ctx) => {
    s.oauth.requireGitHub();
    await s.loginIpLimit(ctx.ip);
    const returnTo = s.oauth.allowedReturnTo(single(ctx.query.return_to));
    if (!returnTo) throw new AppError("REDIRECT_NOT_ALLOWED", "return_to must be the full address of a page on one of this service's ALLOWED_ORIGINS");
    const nonceHash = single(ctx.query.nonce_hash);
    if (nonceHash === undefined || !NONCE_HASH.test(nonceHash)) throw fieldError("nonce_hash", "must be the base64url SHA-256 of the page's nonce (43 characters)");
    let link = null;
    if (ctx.query.ticket !== undefined) {
      link = await s.oauth.redeemLinkTicket(single(ctx.query.ticket));
      if (!link) {
        ctx.state.log.info({ event: "oauth_linked", outcome: "failure", reason: "OAUTH_STATE_INVALID", detail: "link ticket unknown, used or expired" }, "GitHub link refused");
        return sendBack(ctx, returnTo, { error: "OAUTH_STATE_INVALID" });
      }
    }
    const { state, url } = await s.oauth.begin({ returnTo, nonceHash, link });
    stateCookie.set(ctx, state);
    ctx.redirect(url);
  });

  router.get("/oauth/github/callback", async (ctx) => {
    s.oauth.requireGitHub();
    const log = ctx.state.log;
    const state = single(ctx.query.state);
    // Spent whatever follows: a state is presented once.
    const flow = state === undefined ? null : await s.oauth.takeState(state);
    if (state === undefined || !flow) {
      log.info({ event: "oauth_login", outcome: "failure", reason: "OAUTH_STATE_INVALID", detail: "no live state" }, "GitHub sign-in refused");
      throw new AppError("OAUTH_STATE_INVALID");
    }
    const event = flow.link ? "oauth_linked" : "oauth_login";
    const refuse = (code: ErrorCode, detail: string) => {
      log.info({ event, outcome: "failure", reason: code, detail }, flow.link ? "GitHub link refused" : "GitHub sign-in refused");
      sendBack(ctx, flow.returnTo, { error: code });
    };
    // Only the browser that went through `start` holds the cookie: a link carrying someone else's state (to sign
    // a victim into the attacker's account) fails here.
    if (!stateCookie.matches(ctx, state)) return refuse("OAUTH_STATE_INVALID", "state cookie missing or different");
    stateCookie.clear(ctx);
    const githubError = ctx.query.error;
    if (githubError !== undefined) {
      return single(githubError) === "access_denied" ? refuse("OAUTH_DENIED", "cancelled at GitHub") : refuse("OAUTH_FAILED", `GitHub answered ${String(githubError).slice(0, 64)}`);
    }
    const code = single(ctx.query.code);
    if (!code) return refuse("OAUTH_FAILED", "no code from GitHub");

    let outcome;
    try {
      outcome = await s.oauth.complete(flow, code);
    } catch (err) {
      if (err instanceof AppError && FRAGMENT_ERRORS.has(err.code)) return refuse(err.code, err instanceof GitHubFailure ? err.reason : err.message);
      throw err;
    }
    ctx.state.uid = outcome.uid;
    if (outcome.kind === "linked") {
      log.info({ event: "oauth_linked", outcome: "success", provider: "github", uid: outcome.uid, github: outcome.github }, "GitHub account linked");
      return sendBack(ctx, flow.returnTo, { linked: "github" });
    }
    log.info({ event: "oauth_login", outcome: "code_issued", provider: "github", uid: outcome.uid, github: outcome.github, rule: outcome.rule }, "GitHub sign-in accepted; login code sent to the page");
    sendBack(ctx, flow.returnTo, { code: outcome.code });
  });

  router.post("/oauth/exchange", async (ctx) => {
    // Only a page exchanges codes (the origin check has refused origins not in ALLOWED_ORIGINS): a request without an
    // Origin is not a page of ours.
    if (ctx.get("Origin") === "") throw new AppError("ORIGIN_NOT_ALLOWED", "A sign-in code can only be exchanged by a page of this service (the request has no Origin)");
    await s.loginIpLimit(ctx.ip);
    const { code, nonce } = parse(exchangeBody, ctx.request.body);
    const user = await s.oauth.exchange(code, nonce);
    ctx.state.uid = user.uid;
    // Set on this response, by the page's fetch: the challenge cookie lands in the page's partition, as the session would.
    if (user.mfaEnabled) await s.mfa.requireSecondFactor(ctx, user, "github");
    completeLogin(ctx, s, user, "github");
  });

  router.get<SessionState>("/oauth/github", tokenRequired(), async (ctx) => {
    const me = ctx.state.user;
    const [link, hasPassword] = await Promise.all([s.oauth.linkOf(me.id), s.users.hasPassword(me.id)]);
    ctx.body = { available: s.oauth.available, linked: link !== null, login: link?.login ?? null, linkedAt: link?.linkedAt ?? null, hasPassword };
  });

  router.post<SessionState>("/oauth/github/link", tokenRequired(), async (ctx) => {
    s.oauth.requireGitHub();
    const { returnTo, currentPassword } = parse(linkBody, ctx.request.body);
    const target = s.oauth.allowedReturnTo(returnTo);
    if (!target) throw new AppError("REDIRECT_NOT_ALLOWED", "returnTo must be the full address of a page on one of this service's ALLOWED_ORIGINS");
    const me = ctx.state.user;
    const existing = await s.oauth.linkOf(me.id);
    if (existing) throw new AppError("OAUTH_ACCOUNT_EXISTS", `Your account is already linked to the GitHub account @${existing.login}: unlink it first`);
    // Linking adds a way into the account: the same re-authentication as any identity change.
    await reauthenticate(ctx, s, currentPassword, "the GitHub link");
    const ticket = await s.oauth.issueLinkTicket(me, ctx.state.session.ver);
    ctx.body = { url: `${s.oauth.startUrl}?${new URLSearchParams({ return_to: target, ticket })}` };
  });

  router.delete<SessionState>("/oauth/github", tokenRequired(), async (ctx) => {
    const me = ctx.state.user;
    const login = await s.oauth.unlink(me.id);
    if (login !== null) ctx.state.log.info({ event: "oauth_unlinked", provider: "github", uid: me.uid, github: login }, "GitHub account unlinked");
    ctx.status = 204;
  });
}

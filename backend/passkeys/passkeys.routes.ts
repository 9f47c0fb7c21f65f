// Passkey routes (docs/passkeys.md › Routes): managing an account's passkeys on the security page, and the sign-in
// from the login page, POST /api/authenticate/passkey, which ends in the same session as any login. Also
// GET /.well-known/webauthn (related origins), outside /api: wellKnownRouter().
import Router from "@koa/router";
import type { ParameterizedContext } from "koa";
import { AppError } from "../errors";
import { parse } from "../http/parse";
import type { AppRouter, AppState, SessionState } from "../http/state";
import type { Services } from "../services";
import { completeLogin } from "../auth/login";
import { RECENT_SIGN_IN_SECONDS } from "../auth/reauth";
import { apiHostOf, passkeyOriginProblem } from "./rp-check";
import { asAuthenticationResponse, asRegistrationResponse, authenticateBody, optionsBody, registrationBody, renameBody } from "./passkeys.schemas";

type PasskeyServices = Pick<Services, "config" | "passkeys" | "tokenRequired" | "loginIpLimit" | "tokens" | "cookie" | "now">;

/** A passkey's id from the path; anything else is "no such passkey" (404), like another account's. */
const passkeyIdOf = (raw: string): number | null => (/^[1-9][0-9]{0,9}$/.test(raw) && Number(raw) <= 2_147_483_647 ? Number(raw) : null);
const noSuchPasskey = () => new AppError("NOT_FOUND", "You have no passkey with this id");

export function passkeyRoutes(router: AppRouter, s: PasskeyServices): void {
  const { tokenRequired } = s;

  /** 400 PASSKEYS_UNAVAILABLE, in words, before any ceremony starts: this page's origin cannot use the RP ID. */
  function requireUsableOrigin(ctx: ParameterizedContext<AppState>) {
    const problem = passkeyOriginProblem(s.config.webauthn, ctx.get("Origin") || undefined);
    if (problem) throw new AppError("PASSKEYS_UNAVAILABLE", problem, { rpId: s.config.webauthn.rpId, origins: s.config.webauthn.origins });
  }

  router.get<SessionState>("/passkeys", tokenRequired(), async (ctx) => {
    ctx.body = await s.passkeys.list(ctx.state.user.id);
  });

  // Adding a passkey adds a way into the account, so, like every change of how it signs in, it needs a recent
  // sign-in: a session cookie stolen an hour ago must not be able to plant the thief's passkey. The body stays
  // `{}` (docs/passkeys.md › Why a recent sign-in).
  router.post<SessionState>("/passkeys/registration/options", tokenRequired(), async (ctx) => {
    parse(optionsBody, ctx.request.body);
    await s.loginIpLimit(ctx.ip);
    requireUsableOrigin(ctx);
    if (Math.floor(s.now() / 1000) - ctx.state.session.iat > RECENT_SIGN_IN_SECONDS) {
      throw new AppError("REAUTH_REQUIRED", `Please sign in again (less than ${RECENT_SIGN_IN_SECONDS / 60} minutes ago) to add a passkey`);
    }
    ctx.body = await s.passkeys.registrationOptions(ctx.state.user);
  });

  router.post<SessionState>("/passkeys/registration", tokenRequired(), async (ctx) => {
    const { response, name } = parse(registrationBody, ctx.request.body);
    const me = ctx.state.user;
    if (s.config.webauthn.rpId === null) requireUsableOrigin(ctx);
    const credential = asRegistrationResponse(response);
    if (!credential) throw new AppError("PASSKEY_INVALID", "The passkey's answer is not in the expected form (use @simplewebauthn/browser's startRegistration)");
    const result = await s.passkeys.finishRegistration(me, credential, name);
    if (!result.ok) {
      ctx.state.log.info({ event: "passkey_refused", uid: me.uid, during: "registration", reason: result.reason }, "passkey registration refused");
      throw new AppError(result.code, result.message, result.data ?? null);
    }
    ctx.state.log.info({ event: "passkey_added", uid: me.uid, passkeyId: result.passkey.id, backedUp: result.passkey.backedUp }, "passkey added");
    ctx.status = 201;
    ctx.body = { id: result.passkey.id, name: result.passkey.name, createdAt: result.passkey.createdAt, backedUp: result.passkey.backedUp };
  });

  router.put<SessionState>("/passkeys/:id", tokenRequired(), async (ctx) => {
    const id = passkeyIdOf(ctx.params.id);
    const { name } = parse(renameBody, ctx.request.body);
    const renamed = id === null ? null : await s.passkeys.rename(ctx.state.user.id, id, name);
    if (!renamed) throw noSuchPasskey();
    ctx.body = renamed;
  });

  router.delete<SessionState>("/passkeys/:id", tokenRequired(), async (ctx) => {
    const id = passkeyIdOf(ctx.params.id);
    const me = ctx.state.user;
    const removed = id === null ? null : await s.passkeys.remove(me.id, id);
    if (!removed) throw noSuchPasskey();
    ctx.state.log.info({ event: "passkey_removed", uid: me.uid, passkeyId: removed.id }, "passkey removed");
    ctx.status = 204;
  });

  router.post("/passkeys/authentication/options", async (ctx) => {
    await s.loginIpLimit(ctx.ip);
    parse(optionsBody, ctx.request.body);
    requireUsableOrigin(ctx);
    ctx.body = await s.passkeys.authenticationOptions();
  });

  router.post("/authenticate/passkey", async (ctx) => {
    await s.loginIpLimit(ctx.ip);
    const log = ctx.state.log;
    // One answer for every failure — malformed, unknown, used or expired challenge, unknown credential, another
    // account's handle, bad signature, counter: a caller learns nothing about which credentials exist.
    const refuse = (reason: string) => {
      log.info({ event: "login", outcome: "failure", via: "passkey", reason }, "passkey login failed");
      return new AppError("INVALID_CREDENTIALS", "This passkey was not accepted");
    };
    const body = authenticateBody.safeParse(ctx.request.body ?? {});
    const credential = body.success ? asAuthenticationResponse(body.data.response) : null;
    if (!credential) throw refuse("malformed request");
    const result = await s.passkeys.authenticate(credential);
    if (!result.ok) throw refuse(result.reason);
    ctx.state.uid = result.user.uid;
    log.info({ event: "passkey_login", uid: result.user.uid, passkeyId: result.passkeyId }, "signed in with a passkey");
    // User verification was required, so the passkey proved possession and the person: both factors, no MFA step.
    completeLogin(ctx, s, result.user, "passkey");
  });
}

/**
 * GET /.well-known/webauthn — the related-origins list (WEBAUTHN_RELATED_ORIGINS=true) browsers fetch from
 * https://<RP ID>/.well-known/webauthn, served only when the RP ID is the API's own host (PUBLIC_API_URL's host,
 * or the host it was reached at when that is unset); anywhere else it is 404 like any unknown path.
 */
export function wellKnownRouter(s: Pick<Services, "config">): AppRouter {
  const router: AppRouter = new Router<AppState>();
  router.get("/.well-known/webauthn", async (ctx) => {
    const { webauthn } = s.config;
    const apiHost = apiHostOf(s.config) ?? ctx.hostname;
    if (!webauthn.relatedOrigins || webauthn.rpId === null || webauthn.rpId !== apiHost) {
      throw new AppError("NOT_FOUND", `No route for ${ctx.method} ${ctx.path}`);
    }
    ctx.body = { origins: webauthn.origins };
  });
  return router;
}

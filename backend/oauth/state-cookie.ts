// The state cookie of Sign in with GitHub (docs/github.md › Cookies): it ties the callback to the browser that
// started the flow. Unlike the session cookie it is set and read only in top-level visits to the API (`start`,
// then the callback GitHub sends the browser to), so it is first-party there and needs no partition.
import crypto from "node:crypto";
import type { Context } from "koa";
import { serialize } from "cookie";

export const STATE_COOKIE = "__Host-oauth_state";
/** As long as a state row lives. */
export const STATE_TTL_SECONDS = 600;

const attributes = {
  path: "/", // __Host-: Path=/, no Domain, Secure
  httpOnly: true,
  secure: true, // also over plain http on localhost, as the session cookie
  // Lax: sent on the top-level GET that GitHub's redirect makes (a cross-site navigation), never on a cross-site
  // subrequest. Not partitioned: a partitioned cookie set at the top level would be keyed to the API's own site,
  // which is where the callback reads it anyway, and unpartitioned first-party cookies are never blocked.
  sameSite: "lax" as const,
};

/** Whether two secrets are equal, compared in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export const stateCookie = {
  set(ctx: Context, state: string) {
    ctx.append("Set-Cookie", serialize(STATE_COOKIE, state, { ...attributes, maxAge: STATE_TTL_SECONDS }));
  },
  clear(ctx: Context) {
    ctx.append("Set-Cookie", serialize(STATE_COOKIE, "", { ...attributes, maxAge: 0 }));
  },
  /** Whether the request's state cookie is `state` (compared in constant time). */
  matches(ctx: Context, state: string): boolean {
    return sameSecret(ctx.cookies.get(STATE_COOKIE) ?? "", state);
  },
};

// The second-step cookie (docs/two-factor.md › Challenge cookie): `__Host-mfa_challenge`, holding a one-time
// token (never a JWT) that names the half-finished sign-in. Same attributes as the session cookie, so it is set
// by the page's fetch into the same partition the session cookie will land in, and sent back with the code.
import type { Context } from "koa";
import { serialize } from "cookie";
import type { Config } from "../config";

export const CHALLENGE_COOKIE = "__Host-mfa_challenge";

export function createChallengeCookie(config: Pick<Config, "cookiePartitioned" | "mfa">) {
  const attributes = {
    path: "/", // __Host-: Path=/, no Domain, Secure
    httpOnly: true, // page scripts never see the challenge
    secure: true, // also over plain http: browsers accept Secure on localhost, and SameSite=None requires it
    sameSite: "none" as const, // the page is on another origin, often another site
    partitioned: config.cookiePartitioned, // CHIPS: the only third-party cookies current browsers keep
  };
  return {
    set(ctx: Context, token: string) {
      ctx.append("Set-Cookie", serialize(CHALLENGE_COOKIE, token, { ...attributes, maxAge: config.mfa.challengeTtlSeconds }));
    },
    clear(ctx: Context) {
      ctx.append("Set-Cookie", serialize(CHALLENGE_COOKIE, "", { ...attributes, maxAge: 0 }));
    },
    read(ctx: Context): string | undefined {
      return ctx.cookies.get(CHALLENGE_COOKIE) || undefined;
    },
  };
}

export type ChallengeCookie = ReturnType<typeof createChallengeCookie>;

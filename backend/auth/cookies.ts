// The session cookie (docs/api.md › Session cookie): one place decides its name and every attribute.
import type { Context } from "koa";
import { parse, serialize } from "cookie";
import type { Config } from "../config";

export interface SessionCookie {
  set(ctx: Context, token: string): void;
  clear(ctx: Context): void;
  read(ctx: Context): string | undefined;
}

export function createSessionCookie(config: Pick<Config, "jwt" | "cookiePartitioned">): SessionCookie {
  const name = config.jwt.cookieName;
  const attributes = {
    path: "/", // __Host- requires Path=/ and no Domain: the cookie stays on the API's exact host
    httpOnly: true, // page scripts (and XSS) never see the token
    // Secure even when the API is reached over plain http: browsers accept it on localhost, behind a TLS
    // proxy it is simply right, and SameSite=None cookies without Secure are rejected outright.
    secure: true,
    sameSite: "none" as const, // the frontend is on another origin, often another site
    // Partitioned (CHIPS): the only kind of third-party cookie current Chromium and Safari still store.
    partitioned: config.cookiePartitioned,
  };
  // Headers are written and read with `cookie` directly: Koa's ctx.cookies refuses Secure on a plain-http
  // request, and building its Cookies object cost more than the read on every authenticated request.
  return {
    set(ctx, token) {
      ctx.append("Set-Cookie", serialize(name, token, { ...attributes, maxAge: config.jwt.ttlSeconds }));
    },
    clear(ctx) {
      ctx.append("Set-Cookie", serialize(name, "", { ...attributes, maxAge: 0 }));
    },
    read(ctx) {
      const header = ctx.get("Cookie");
      return header === "" ? undefined : parse(header)[name] || undefined;
    },
  };
}

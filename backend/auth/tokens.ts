// Signing and verifying session JWTs (docs/api.md › Tokens): HS256 only, a `kid` per key for rotation, and the
// claim checks jsonwebtoken leaves to us (it accepts no `exp`, absurd lifetimes and future `iat`).
import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import type { Config } from "../config";
import { AppError } from "../errors";

export interface TokenClaims {
  sub: string;
  jti: string;
  ver: number;
  iat: number;
  exp: number;
}

export interface Tokens {
  sign(user: { id: number; tokenVersion: number }): { token: string; claims: TokenClaims };
  verify(token: string): TokenClaims;
}

/** Tolerated clock difference for `iat` (seconds): tokens are minted by this service's own clock. */
const IAT_LEEWAY_SECONDS = 5;

/** How many verified tokens `rememberVerified` keeps (~0.5 kB each). */
const REMEMBERED_TOKENS = 10_000;

/**
 * Remembers the tokens `verify` accepted, so a session's later requests skip the HMAC and the JSON parsing
 * (~8 µs per request). Safe because that verdict depends only on the token and on the
 * keys, fixed for the life of this process, and on time, which is checked again on every hit. It says
 * nothing about the session: revocation, deletion and role changes are checked against the database as it
 * is now on every request (tokenRequired, users.service.ts), so they still take effect at once. Only tokens this
 * service signed get in, so the map cannot be filled with junk; the oldest entry leaves first.
 */
function rememberVerified(verify: Tokens["verify"], now: () => number): Tokens["verify"] {
  const verified = new Map<string, TokenClaims>();
  return (token) => {
    let claims = verified.get(token);
    if (claims === undefined) {
      claims = verify(token);
      if (verified.size >= REMEMBERED_TOKENS) verified.delete(verified.keys().next().value as string);
      // A flat copy as the key: the token may be a slice of a long Cookie header the map would keep alive.
      verified.set(Buffer.from(token).toString(), claims);
    } else {
      try {
        checkTimes(claims, Math.floor(now() / 1000));
      } catch (err) {
        verified.delete(token);
        throw err;
      }
    }
    return { ...claims };
  };
}

/** The time checks, for fresh and remembered tokens alike: not minted in the future, not expired. */
function checkTimes(claims: Pick<TokenClaims, "iat" | "exp">, nowSeconds: number): void {
  if (claims.iat > nowSeconds + IAT_LEEWAY_SECONDS) throw new AppError("TOKEN_INVALID");
  if (claims.exp <= nowSeconds) throw new AppError("TOKEN_EXPIRED");
}

/** A key id that names the key without revealing anything about it. */
function keyId(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("base64url").slice(0, 12);
}

export function createTokens(jwtConfig: Config["jwt"], now: () => number = Date.now): Tokens {
  // KeyObjects made once: verify with a string secret costs ~640 µs per call, with a KeyObject ~14 µs.
  const current = { kid: keyId(jwtConfig.secret), key: crypto.createSecretKey(Buffer.from(jwtConfig.secret)) };
  const keys = new Map<string, crypto.KeyObject>([[current.kid, current.key]]);
  for (const old of jwtConfig.previousSecrets) keys.set(keyId(old), crypto.createSecretKey(Buffer.from(old)));
  const { ttlSeconds, issuer } = jwtConfig;

  const tokens: Tokens = {
    sign(user) {
      const iat = Math.floor(now() / 1000);
      const claims: TokenClaims = {
        sub: String(user.id),
        jti: crypto.randomUUID(),
        ver: user.tokenVersion,
        iat,
        exp: iat + ttlSeconds,
      };
      const token = jwt.sign({ ...claims, iss: issuer }, current.key, {
        algorithm: "HS256",
        keyid: current.kid,
      });
      return { token, claims };
    },

    verify(token) {
      let decoded: jwt.Jwt | null;
      try {
        decoded = jwt.decode(token, { complete: true });
      } catch {
        throw new AppError("TOKEN_INVALID"); // jws throws on a payload that is not JSON
      }
      // Pinning the algorithm before looking up the key: `none`, RS256-with-HMAC-key and friends end here.
      if (!decoded || typeof decoded !== "object" || decoded.header.alg !== "HS256") throw new AppError("TOKEN_INVALID");
      const key = typeof decoded.header.kid === "string" ? keys.get(decoded.header.kid) : undefined;
      if (!key) throw new AppError("TOKEN_INVALID");

      const nowSeconds = Math.floor(now() / 1000);
      let payload: unknown;
      try {
        payload = jwt.verify(token, key, { algorithms: ["HS256"], issuer, clockTimestamp: nowSeconds });
      } catch (err) {
        if (err instanceof jwt.TokenExpiredError) throw new AppError("TOKEN_EXPIRED");
        throw new AppError("TOKEN_INVALID");
      }
      if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new AppError("TOKEN_INVALID");
      const p = payload as Record<string, unknown>;
      if (
        typeof p.sub !== "string" || !/^[1-9]\d{0,15}$/.test(p.sub) ||
        typeof p.jti !== "string" || p.jti.length < 1 || p.jti.length > 64 ||
        !Number.isSafeInteger(p.ver) || (p.ver as number) < 0 ||
        !Number.isSafeInteger(p.iat) || !Number.isSafeInteger(p.exp)
      ) {
        throw new AppError("TOKEN_INVALID");
      }
      const iat = p.iat as number;
      const exp = p.exp as number;
      // A token we minted lives exactly ttlSeconds.
      if (exp - iat > ttlSeconds || exp <= iat) throw new AppError("TOKEN_INVALID");
      checkTimes({ iat, exp }, nowSeconds);
      return { sub: p.sub, jti: p.jti, ver: p.ver as number, iat, exp };
    },
  };
  return { sign: tokens.sign, verify: rememberVerified(tokens.verify, now) };
}

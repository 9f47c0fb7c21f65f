// Passkeys (docs/passkeys.md): WebAuthn registration and sign-in through @simplewebauthn/server, and the
// account's list of passkeys. Challenges are one-time tokens (any replica can finish a ceremony another began;
// each is spent before it is verified against), and every rule the library leaves to us is here: a credential
// id belongs to one account, the user handle must be the credential owner's, counters and backup state.
import crypto from "node:crypto";
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { decodeClientDataJSON, isoBase64URL } from "@simplewebauthn/server/helpers";
import type { Config } from "../config";
import { serializable, type Db } from "../db";
import { AppError } from "../errors";
import type { OneTimeTokens, TokenPurpose } from "../auth/one-time-tokens";
import { publicFields, toPublic } from "../users/users.service";
import type { PublicUser } from "../users/user.model";
import { Prisma } from "../../generated/sqlite/client";

/** A ceremony must finish within this (the challenge's one-time token lives as long). */
export const CHALLENGE_TTL_SECONDS = 300;
/** User.webauthnUserId: the random handle authenticators store as user.id (WebAuthn: at most 64 bytes, no PII). */
const USER_HANDLE_BYTES = 16;

export interface PasskeyView {
  id: number;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  backedUp: boolean;
}

/** A refusal: `code` for the answer, `reason` for the log only (never a secret, never sent to the client). */
export type Refusal = { ok: false; code: "CHALLENGE_INVALID" | "PASSKEY_INVALID"; reason: string; message?: string; data?: { reason: string } };

export interface PasskeysDeps {
  config: Pick<Config, "webauthn">;
  db: Db;
  oneTimeTokens: OneTimeTokens;
  now?: () => number;
}

export type PasskeysService = ReturnType<typeof createPasskeysService>;

const viewOf = (row: { id: number; name: string; createdAt: Date; lastUsedAt: Date | null; backedUp: boolean }): PasskeyView => ({
  id: row.id,
  name: row.name,
  createdAt: row.createdAt.toISOString(),
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  backedUp: row.backedUp,
});
const viewFields = { id: true, name: true, createdAt: true, lastUsedAt: true, backedUp: true } as const;

const transportsOf = (json: string | null): string[] | undefined => {
  if (!json) return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === "string") : undefined;
  } catch {
    return undefined;
  }
};

/** The challenge the browser signed, read from clientDataJSON (null when it cannot be read). */
function signedChallenge(clientDataJSON: string): string | null {
  try {
    const { challenge } = decodeClientDataJSON(clientDataJSON);
    return typeof challenge === "string" ? challenge : null;
  } catch {
    return null;
  }
}

/** A copy on a plain ArrayBuffer, the only kind the library's types accept. */
function bytes(source: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(new ArrayBuffer(source.length));
  copy.set(source);
  return copy;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300);

export function createPasskeysService({ config, db, oneTimeTokens, now = Date.now }: PasskeysDeps) {
  const { prisma } = db;
  const { webauthn } = config;

  /** Issues the one-time token a ceremony's challenge is: its 32 random bytes are the challenge itself. */
  async function newChallenge(purpose: TokenPurpose, userId: number | null): Promise<Uint8Array<ArrayBuffer>> {
    const token = await oneTimeTokens.issue(purpose, { userId, ttlSeconds: CHALLENGE_TTL_SECONDS });
    return bytes(Buffer.from(token, "base64url"));
  }

  /** The account's user handle, made at its first passkey ceremony (the uid never goes to an authenticator). */
  async function userHandleOf(userId: number): Promise<Uint8Array<ArrayBuffer>> {
    const read = () => prisma.user.findUnique({ where: { id: userId }, select: { webauthnUserId: true } });
    const found = await read();
    if (!found) throw new AppError("USER_NOT_FOUND");
    if (found.webauthnUserId) return bytes(found.webauthnUserId);
    // Conditional: of two first ceremonies at once, one handle wins and both use it.
    await prisma.user.updateMany({ where: { id: userId, webauthnUserId: null }, data: { webauthnUserId: new Uint8Array(crypto.randomBytes(USER_HANDLE_BYTES)) } });
    const made = await read();
    if (!made?.webauthnUserId) throw new AppError("USER_NOT_FOUND");
    return bytes(made.webauthnUserId);
  }

  return {
    /** Creation options for a signed-in user: a discoverable credential, verified user, no attestation. */
    async registrationOptions(user: Pick<PublicUser, "id" | "uid" | "name">): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const rpID = webauthn.rpId as string;
      const userID = await userHandleOf(user.id);
      const existing = await prisma.passkey.findMany({ where: { userId: user.id }, select: { credentialId: true, transports: true }, orderBy: { id: "asc" } });
      return generateRegistrationOptions({
        rpName: webauthn.rpName,
        rpID,
        userName: user.uid,
        userDisplayName: user.name,
        userID,
        challenge: await newChallenge("webauthn_register", user.id),
        timeout: CHALLENGE_TTL_SECONDS * 1000,
        attestationType: "none",
        // The authenticator refuses to make a second passkey for this account where it already holds one.
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: transportsOf(p.transports) })),
        // Required: sign-in without typing a uid needs a discoverable credential, and a passkey login counts as
        // both factors (docs/two-factor.md) only because the authenticator verified the person (PIN, biometrics).
        authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
      });
    },

    /** Verifies a registration and stores the passkey; a refusal says why (for the log) and how to answer. */
    async finishRegistration(user: Pick<PublicUser, "id">, response: RegistrationResponseJSON, name: string | undefined): Promise<{ ok: true; passkey: PasskeyView } | Refusal> {
      const rpId = webauthn.rpId as string;
      const challenge = signedChallenge(response.response.clientDataJSON);
      if (!challenge) return { ok: false, code: "PASSKEY_INVALID", reason: "clientDataJSON unreadable" };
      // Spent before it is verified against, so a failed verification has used it up too: one try per challenge.
      const row = await oneTimeTokens.consume(challenge, "webauthn_register");
      if (!row || row.userId !== user.id) return { ok: false, code: "CHALLENGE_INVALID", reason: row ? "challenge of another account" : "unknown, used or expired challenge" };
      let info;
      try {
        const verification = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: [...webauthn.origins],
          expectedRPID: rpId,
          requireUserVerification: true,
        });
        if (!verification.verified) return { ok: false, code: "PASSKEY_INVALID", reason: "not verified" };
        info = verification.registrationInfo;
      } catch (err) {
        return { ok: false, code: "PASSKEY_INVALID", reason: errorText(err) };
      }
      const taken = { ok: false, code: "PASSKEY_INVALID", reason: "credential id already registered", message: "This passkey is already registered to an account here", data: { reason: "already_registered" } } as const;
      // One account per credential id (the unique index decides a race; this read gives the usual case its answer).
      if (await prisma.passkey.findUnique({ where: { credentialId: info.credential.id }, select: { id: true } })) return taken;
      const count = await prisma.passkey.count({ where: { userId: user.id } });
      try {
        const created = await prisma.passkey.create({
          data: {
            credentialId: info.credential.id,
            userId: user.id,
            publicKey: new Uint8Array(info.credential.publicKey),
            counter: BigInt(info.credential.counter),
            transports: info.credential.transports?.length ? JSON.stringify(info.credential.transports) : null,
            deviceType: info.credentialDeviceType,
            backedUp: info.credentialBackedUp,
            rpId,
            name: name ?? `Passkey ${count + 1}`,
            createdAt: new Date(now()),
          },
          select: viewFields,
        });
        return { ok: true, passkey: viewOf(created) };
      } catch (err) {
        if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") return taken;
        throw err;
      }
    },

    async list(userId: number): Promise<PasskeyView[]> {
      const rows = await prisma.passkey.findMany({ where: { userId }, select: viewFields, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
      return rows.map(viewOf);
    },

    /** Renames one of the user's passkeys; null when they have none with this id (someone else's included). */
    async rename(userId: number, id: number, name: string): Promise<PasskeyView | null> {
      const renamed = await prisma.passkey.updateMany({ where: { id, userId }, data: { name } });
      if (renamed.count !== 1) return null;
      const row = await prisma.passkey.findFirst({ where: { id, userId }, select: viewFields });
      return row ? viewOf(row) : null;
    },

    /**
     * Removes one of the user's passkeys; null when they have none with this id. Refused (409 LAST_LOGIN_METHOD)
     * when the account would keep no password, passkey or GitHub link. Check and delete share one serializable
     * transaction: two deletes of an account's last two passkeys at once cannot both pass.
     */
    async remove(userId: number, id: number): Promise<{ id: number; name: string } | null> {
      return serializable(db, async (tx) => {
        const passkey = await tx.passkey.findFirst({ where: { id, userId }, select: { id: true, name: true } });
        if (!passkey) return null;
        const user = await tx.user.findUnique({ where: { id: userId }, select: { passwordHash: true, _count: { select: { passkeys: true, oauthAccounts: true } } } });
        if (!user) return null;
        if (!user.passwordHash && user._count.oauthAccounts === 0 && user._count.passkeys <= 1) throw new AppError("LAST_LOGIN_METHOD");
        await tx.passkey.delete({ where: { id: passkey.id } });
        return passkey;
      });
    },

    /** Request options for a sign-in without a uid: no allowCredentials, so the authenticator offers its passkeys. */
    async authenticationOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
      return generateAuthenticationOptions({
        rpID: webauthn.rpId as string,
        challenge: await newChallenge("webauthn_login", null),
        timeout: CHALLENGE_TTL_SECONDS * 1000,
        userVerification: "required",
        allowCredentials: [],
      });
    },

    /**
     * Verifies a sign-in. The user it belongs to (with tokenVersion, for the session), or a reason for the log:
     * the route answers every refusal with one body.
     */
    async authenticate(response: AuthenticationResponseJSON): Promise<{ ok: true; user: PublicUser & { tokenVersion: number }; passkeyId: number } | { ok: false; reason: string }> {
      const rpId = webauthn.rpId;
      if (rpId === null) return { ok: false, reason: "passkeys are off" };
      const challenge = signedChallenge(response.response.clientDataJSON);
      if (!challenge) return { ok: false, reason: "clientDataJSON unreadable" };
      if (!(await oneTimeTokens.consume(challenge, "webauthn_login"))) return { ok: false, reason: "unknown, used or expired challenge" };

      const passkey = await prisma.passkey.findUnique({ where: { credentialId: response.id } });
      if (!passkey) return { ok: false, reason: "unknown credential" };
      const found = await prisma.user.findUnique({ where: { id: passkey.userId }, select: { ...publicFields, tokenVersion: true, webauthnUserId: true } });
      if (!found) return { ok: false, reason: "unknown credential" };
      // The library does not compare the handle the authenticator returned with the credential's owner: a
      // discoverable credential always returns it, and it must be this account's.
      const handle = response.response.userHandle;
      if (!handle || !found.webauthnUserId || handle !== isoBase64URL.fromBuffer(bytes(found.webauthnUserId))) return { ok: false, reason: "user handle is not the credential owner's" };

      let info;
      try {
        const verification = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: [...webauthn.origins],
          expectedRPID: rpId,
          credential: { id: passkey.credentialId, publicKey: bytes(passkey.publicKey), counter: Number(passkey.counter), transports: transportsOf(passkey.transports) },
          requireUserVerification: true,
        });
        if (!verification.verified) return { ok: false, reason: "not verified" };
        info = verification.authenticationInfo;
      } catch (err) {
        // Among these: a signature counter that did not grow (a cloned authenticator?) when either value is non-zero.
        return { ok: false, reason: errorText(err) };
      }
      // Backup eligibility is fixed when a credential is made (WebAuthn §6.1.3): a change means another credential.
      if (info.credentialDeviceType !== passkey.deviceType) return { ok: false, reason: "backup eligibility changed" };
      // The counter moves forward atomically: of two sign-ins racing with counters 6 and 7, one is refused.
      const stored = passkey.counter;
      const claimed = await prisma.passkey.updateMany({
        where: { id: passkey.id, counter: info.newCounter > 0 ? { lt: BigInt(info.newCounter) } : { equals: stored } },
        data: { counter: BigInt(info.newCounter), backedUp: info.credentialBackedUp, lastUsedAt: new Date(now()) },
      });
      if (claimed.count !== 1) return { ok: false, reason: "signature counter raced" };
      const { webauthnUserId: _h, tokenVersion, ...rest } = found;
      return { ok: true, user: { ...toPublic(rest), tokenVersion }, passkeyId: passkey.id };
    },
  };
}

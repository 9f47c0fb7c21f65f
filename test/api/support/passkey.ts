// A software passkey for the jest tests (design/accounts.md › Software passkey): a P-256 key pair that answers
// creation and request options the way an authenticator and a browser would — authenticator data, client data,
// a "none" attestation, DER signatures — so every verification failure can be produced without a browser.
import crypto from "node:crypto";
import { isoBase64URL, isoCBOR } from "@simplewebauthn/server/helpers";
import { sessionCookieOf, type TestApp } from "../helpers";

export const PAGE_ORIGIN = "http://localhost:4100";
export const RP_ID = "localhost";

/** Authenticator data flags (WebAuthn §6.1). */
export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

const b64u = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString("base64url");
const sha256 = (data: Uint8Array | string) => crypto.createHash("sha256").update(data).digest();

function counterBytes(counter: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(counter >>> 0);
  return out;
}

export interface CeremonyOverrides {
  /** The page origin the "browser" writes into clientDataJSON. */
  origin?: string;
  /** The RP ID whose hash starts the authenticator data. */
  rpId?: string;
  /** Authenticator data flags (default: user present + verified, plus backup flags of this passkey). */
  flags?: number;
  /** clientDataJSON's type. */
  type?: string;
  /** The challenge to sign instead of the options' one. */
  challenge?: string;
}

export class SoftwarePasskey {
  readonly credentialId: string;
  /** The user handle (base64url) the registration options gave; an authenticator returns it at sign-in. */
  userHandle: string | null = null;
  counter: number;
  private readonly keys = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });

  /** `counter`: the first signature counter (0 = a synced passkey that never counts); `backup`: BE/BS flags. */
  constructor(readonly options: { counter?: number; backup?: "none" | "eligible" | "backedUp"; credentialId?: Buffer } = {}) {
    this.credentialId = b64u(options.credentialId ?? crypto.randomBytes(32));
    this.counter = options.counter ?? 0;
  }

  private backupFlags(): number {
    if (this.options.backup === "backedUp") return FLAGS.BE | FLAGS.BS;
    if (this.options.backup === "eligible") return FLAGS.BE;
    return 0;
  }

  private coseKey(): Uint8Array {
    const jwk = this.keys.publicKey.export({ format: "jwk" });
    const x = new Uint8Array(Buffer.from(jwk.x as string, "base64url"));
    const y = new Uint8Array(Buffer.from(jwk.y as string, "base64url"));
    // kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y
    return isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, y]]));
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** The browser's RegistrationResponseJSON for creation `options`. */
  register(options: { challenge: string; user: { id: string } }, o: CeremonyOverrides = {}) {
    this.userHandle = options.user.id;
    const id = Buffer.from(this.credentialId, "base64url");
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const authData = Buffer.concat([
      sha256(o.rpId ?? RP_ID),
      Buffer.from([o.flags ?? (FLAGS.UP | FLAGS.UV | FLAGS.AT | this.backupFlags())]),
      counterBytes(this.counter),
      Buffer.alloc(16), // AAGUID: none
      idLength,
      id,
      Buffer.from(this.coseKey()),
    ]);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", new Uint8Array(authData)]]) as never);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: "public-key",
      response: {
        clientDataJSON: b64u(this.clientData(o.type ?? "webauthn.create", o.challenge ?? options.challenge, o.origin ?? PAGE_ORIGIN)),
        attestationObject: b64u(attestationObject),
        transports: ["internal", "hybrid"],
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /**
   * The browser's AuthenticationResponseJSON for request `options`. The counter moves forward by one first when
   * this passkey counts (started above 0), as a hardware authenticator's does; `counter` sets it instead.
   */
  authenticate(options: { challenge: string }, o: CeremonyOverrides & { counter?: number; userHandle?: string | null } = {}) {
    if (o.counter !== undefined) this.counter = o.counter;
    else if (this.counter > 0) this.counter += 1;
    const authData = Buffer.concat([sha256(o.rpId ?? RP_ID), Buffer.from([o.flags ?? (FLAGS.UP | FLAGS.UV | this.backupFlags())]), counterBytes(this.counter)]);
    const clientDataJSON = this.clientData(o.type ?? "webauthn.get", o.challenge ?? options.challenge, o.origin ?? PAGE_ORIGIN);
    const signature = crypto.sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), this.keys.privateKey); // DER, as authenticators send
    const userHandle = o.userHandle === undefined ? this.userHandle : o.userHandle;
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: "public-key",
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}

/** POST with the page's Origin, as the browser sends it (the options routes check it). */
export function fromPage(t: TestApp, method: "post" | "put" | "delete" | "get", path: string, cookie?: string, origin = PAGE_ORIGIN) {
  const req = t.http()[method](path).set("Origin", origin);
  return cookie ? req.set("Cookie", cookie) : req;
}

/** Registers `passkey` for the session `cookie` through the routes; returns the 201 body. */
export async function registerPasskey(t: TestApp, cookie: string, passkey: SoftwarePasskey, name?: string) {
  const options = await fromPage(t, "post", "/api/passkeys/registration/options", cookie).send({});
  if (options.status !== 200) throw new Error(`registration options: ${options.status} ${JSON.stringify(options.body)}`);
  const res = await fromPage(t, "post", "/api/passkeys/registration", cookie).send({ response: passkey.register(options.body), ...(name ? { name } : {}) });
  if (res.status !== 201) throw new Error(`registration: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: number; name: string; createdAt: string; backedUp: boolean };
}

/** Fresh request options for a sign-in. */
export async function loginOptions(t: TestApp) {
  const res = await fromPage(t, "post", "/api/passkeys/authentication/options").send({});
  if (res.status !== 200) throw new Error(`authentication options: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { challenge: string; rpId: string; userVerification: string; allowCredentials?: unknown[] };
}

/** A whole passkey sign-in; the response (200 with the session cookie, or the refusal). */
export async function signInWith(t: TestApp, passkey: SoftwarePasskey, overrides: Parameters<SoftwarePasskey["authenticate"]>[1] = {}) {
  const options = await loginOptions(t);
  return fromPage(t, "post", "/api/authenticate/passkey").send({ response: passkey.authenticate(options, overrides) });
}

export const cookieOf = (res: { headers: Record<string, unknown> }) => sessionCookieOf(res);
export { isoBase64URL };

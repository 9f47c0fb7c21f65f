// Request schemas of the passkey routes (docs/passkeys.md › Routes). The bodies are strict; the browser's
// credential JSON is checked for the fields the verification reads, and may carry more (browsers add fields).
import { z } from "zod";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";

const b64url = z.string().max(8192).regex(/^[A-Za-z0-9_-]*$/);
const credentialId = z.string().min(1).max(1364).regex(/^[A-Za-z0-9_-]+$/); // ≤ 1023 bytes (WebAuthn's limit)

const credential = <T extends z.ZodRawShape>(response: T) =>
  z.looseObject({
    id: credentialId,
    rawId: credentialId,
    type: z.literal("public-key"),
    response: z.looseObject(response),
    clientExtensionResults: z.record(z.string(), z.unknown()),
    authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  });

export const registrationResponse = credential({
  clientDataJSON: b64url,
  attestationObject: b64url,
  transports: z.array(z.string().max(32)).max(10).optional(),
});

export const authenticationResponse = credential({
  clientDataJSON: b64url,
  authenticatorData: b64url,
  signature: b64url,
  userHandle: b64url.optional(),
});

export const passkeyName = z.string({ message: "must be a string" }).trim().min(1, { message: "must not be empty" }).max(64, { message: "must be at most 64 characters" });

export const optionsBody = z.strictObject({});
/** `response` is checked by the route (a malformed one is PASSKEY_INVALID, not a field error). */
export const registrationBody = z.strictObject({ response: z.unknown(), name: passkeyName.optional() });
export const renameBody = z.strictObject({ name: passkeyName });
export const authenticateBody = z.strictObject({ response: z.unknown() });

export const asRegistrationResponse = (value: unknown): RegistrationResponseJSON | null => {
  const parsed = registrationResponse.safeParse(value);
  return parsed.success ? (parsed.data as unknown as RegistrationResponseJSON) : null;
};

export const asAuthenticationResponse = (value: unknown): AuthenticationResponseJSON | null => {
  const parsed = authenticationResponse.safeParse(value);
  return parsed.success ? (parsed.data as unknown as AuthenticationResponseJSON) : null;
};

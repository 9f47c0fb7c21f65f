// AppError and the registry of stable error codes (docs/api.md › Errors, Status codes). One middleware renders them.
import http from "node:http";

export const ERROR_CODES = {
  BODY_MISSING: { status: 400, message: "Please provide user details" },
  UID_MISSING: { status: 401, message: "User ID is missing" },
  PASSWORD_MISSING: { status: 401, message: "Password is missing" },
  INVALID_CREDENTIALS: { status: 401, message: "Invalid user id or password" },
  TOKEN_MISSING: { status: 401, message: "Authentication Token is missing!" },
  TOKEN_INVALID: { status: 401, message: "Invalid Authentication token!" },
  TOKEN_EXPIRED: { status: 401, message: "Authentication token has expired, please log in again" },
  TOKEN_REVOKED: { status: 401, message: "Authentication token has been revoked, please log in again" },
  FORBIDDEN_ROLE: { status: 403, message: "Insufficient permissions" },
  ORIGIN_NOT_ALLOWED: { status: 403, message: "Requests from this origin are not allowed" },
  SIGNUP_DISABLED: { status: 403, message: "Signup is disabled on this server" },
  VALIDATION_FAILED: { status: 400, message: "Some fields are invalid" },
  INVALID_JSON: { status: 400, message: "The request body must be a JSON object" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Request bodies must be application/json" },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The request body is too large" },
  UID_TAKEN: { status: 409, message: "That user id is already taken" },
  LAST_ADMIN: { status: 409, message: "At least one admin must remain: promote another user first" },
  USER_NOT_FOUND: { status: 404, message: "User not found" },
  NOT_FOUND: { status: 404, message: "Not found" },
  MALFORMED_REQUEST: { status: 400, message: "The request is not valid HTTP" },
  REQUEST_TIMEOUT: { status: 408, message: "The request took too long to arrive" },
  HEADERS_TOO_LARGE: { status: 431, message: "The request headers are too large" },
  METHOD_NOT_ALLOWED: { status: 405, message: "Method not allowed" },
  RATE_LIMITED: { status: 429, message: "Too many attempts, please wait and try again" },
  // Account recovery and e-mail verification (docs/recovery.md)
  RESET_TOKEN_INVALID: { status: 400, message: "This password reset link is invalid, used or expired; ask for a new one" },
  VERIFY_TOKEN_INVALID: { status: 400, message: "This verification link is invalid, used or expired; ask for a new one" },
  EMAIL_MISSING: { status: 400, message: "Your account has no e-mail address; add one first" },
  EMAIL_ALREADY_VERIFIED: { status: 409, message: "Your e-mail address is already verified" },
  MAIL_UNAVAILABLE: { status: 503, message: "This server cannot send e-mail right now" },
  // Two-factor authentication (docs/two-factor.md)
  MFA_REQUIRED: { status: 401, message: "Enter the code from your authenticator app" },
  MFA_CODE_INVALID: { status: 401, message: "That code is not right; check your authenticator app and try again" },
  MFA_CHALLENGE_INVALID: { status: 401, message: "This sign-in has expired or was used; start again with your password" },
  MFA_ALREADY_ENABLED: { status: 409, message: "Two-factor authentication is already on" },
  MFA_UNAVAILABLE: { status: 503, message: "Two-factor authentication is not available on this server" },
  REAUTH_REQUIRED: { status: 401, message: "Please sign in again to confirm it is you" },
  // Passkeys (docs/passkeys.md)
  PASSKEY_INVALID: { status: 400, message: "The passkey could not be verified" },
  CHALLENGE_INVALID: { status: 400, message: "This passkey request has expired or was used; try again" },
  PASSKEYS_UNAVAILABLE: { status: 400, message: "Passkeys cannot be used from this page" },
  // Sign in with GitHub (docs/github.md)
  REDIRECT_NOT_ALLOWED: { status: 400, message: "That return address is not one of this service's pages" },
  LOGIN_CODE_INVALID: { status: 400, message: "This sign-in code is invalid, used or expired; start again" },
  OAUTH_STATE_INVALID: { status: 400, message: "This sign-in with GitHub has expired or did not start here; start again" },
  OAUTH_ACCOUNT_EXISTS: { status: 409, message: "An account already uses this; log in with your password and link GitHub from your profile" },
  // Only ever in the callback's redirect (#error=CODE), never a JSON body: kept here so the page and docs share them.
  OAUTH_DENIED: { status: 400, message: "The sign-in with GitHub was cancelled" },
  OAUTH_EMAIL_UNVERIFIED: { status: 400, message: "Your GitHub account has no verified primary e-mail address" },
  OAUTH_FAILED: { status: 502, message: "GitHub could not be reached or refused the sign-in; try again" },
  LAST_LOGIN_METHOD: { status: 409, message: "This is your last way to sign in: add a password, a passkey or GitHub first" },
  UNAVAILABLE: { status: 503, message: "The service is temporarily unavailable, please try again" },
  INTERNAL: { status: 500, message: "Something went wrong on our side" },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly status: number;
  readonly expose = true;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly data: unknown = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.name = "AppError";
    this.status = ERROR_CODES[code].status;
  }
}

/** The error body (docs/api.md › Errors). */
export function errorBody(status: number, code: string, message: string, data: unknown = null) {
  return { message, data, error: http.STATUS_CODES[status] ?? "Error", code };
}

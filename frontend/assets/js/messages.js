// How failures and notes read to a person, and how they are shown in a page's message elements.
// Every page shows results with showError() / showNote(), so every failure reads the same way everywhere.
//
// This module imports nothing: api/config.js imports it (apiFetch words its errors with describeError,
// login() shows its failure with showError). So an API error is recognised by its name rather than by
// `instanceof ApiError`, and the API's base URL comes from the error itself (`error.apiUrl`).

const isApiError = (error) => error instanceof Error && error.name === "ApiError";

/** "45 seconds", "1 minute", "3 minutes". */
export function formatWait(seconds) {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

// The API names fields as the JSON body does; people know them by their form labels.
const FIELD_LABELS = {
  uid: "GitHub ID",
  name: "Name",
  email: "Email",
  password: "Password",
  currentPassword: "Current password",
  role: "Role",
  body: "The form",
};

/** Field errors from a VALIDATION_FAILED body (`data: [{ field, message }]`): ["Name must be 2 to 100 characters", …]. */
export function fieldErrors(data) {
  if (!data) return [];
  const label = (field) => FIELD_LABELS[field] ?? field;
  if (Array.isArray(data)) {
    return data.map((item) => {
      if (typeof item === "string") return item;
      const field = item.field ?? (Array.isArray(item.path) ? item.path.join(".") : item.path);
      return field ? `${label(field)} ${item.message ?? "is invalid"}` : String(item.message ?? "is invalid");
    });
  }
  if (typeof data === "object") {
    return Object.entries(data).map(([field, problem]) =>
      `${label(field)} ${Array.isArray(problem) ? problem.join(", ") : String(problem)}`,
    );
  }
  return [String(data)];
}

export const BLOCKED_COOKIE_MESSAGE =
  "The API signed you in, but your browser blocked the login cookie, so you are not logged in.";

/** Plain words for every failure the pages can meet (the error codes of docs/api.md, plus ours). */
export function describeError(error) {
  if (!isApiError(error)) return "Something unexpected went wrong. Please try again.";
  const origin = location.origin;
  switch (error.code) {
    case "NETWORK_ERROR":
      return (
        `Could not reach the login service at ${error.apiUrl || origin}. It may be down, or it does not ` +
        `accept requests from this page (${origin}): check that it is running and that its ` +
        `ALLOWED_ORIGINS includes ${origin}.`
      );
    case "INVALID_CREDENTIALS":
      return "Wrong GitHub ID or password.";
    case "UID_MISSING":
      return "Please enter your GitHub ID.";
    case "PASSWORD_MISSING":
      return "Please enter your password.";
    case "BODY_MISSING":
      return "Please enter your GitHub ID and password.";
    case "RATE_LIMITED":
      return error.retryAfter
        ? `Too many attempts. Please wait ${formatWait(error.retryAfter)} and try again.`
        : "Too many attempts. Please wait a few minutes and try again.";
    case "TOKEN_MISSING":
      return "You are not logged in.";
    case "TOKEN_EXPIRED":
    case "TOKEN_REVOKED":
    case "TOKEN_INVALID":
      return "Your session has ended (it expired or you were logged out). Please log in again.";
    case "FORBIDDEN_ROLE":
      return "Admins only: your account cannot do this.";
    case "ORIGIN_NOT_ALLOWED":
      return `The login service refuses requests from this page (${origin}). Add it to its ALLOWED_ORIGINS.`;
    case "VALIDATION_FAILED": {
      const fields = fieldErrors(error.data);
      return fields.length ? `Please fix: ${fields.join("; ")}.` : "Some fields are invalid.";
    }
    case "UID_TAKEN":
      return "That GitHub ID is already taken.";
    case "USER_NOT_FOUND":
      return "That user does not exist (any more).";
    case "SIGNUP_DISABLED":
      return "Signing up is turned off on this server.";
    case "UNAVAILABLE":
      return "The login service is temporarily unavailable. Please try again in a moment.";
    case "COOKIE_BLOCKED":
      return BLOCKED_COOKIE_MESSAGE;
    // Account recovery and verification
    case "RESET_TOKEN_INVALID":
      if (error.data?.reason === "too_many_codes") {
        return "Too many wrong codes: this reset link no longer works. Ask for a new link below, and use the newest code from your authenticator app or one of your recovery codes.";
      }
      return "This password reset link has expired, was already used, or was replaced by a newer one. Ask for a new link below.";
    case "VERIFY_TOKEN_INVALID":
      return "This verification link has expired, was already used, or is for an address you have changed since. Send a new one from the Security page.";
    case "EMAIL_MISSING":
      return "Your account has no email address yet: add one on your profile first.";
    case "EMAIL_ALREADY_VERIFIED":
      return "Your email address is already verified.";
    case "MAIL_UNAVAILABLE":
      return "This server cannot send email right now, so this cannot be done by email. Ask an administrator for help.";
    // Two-factor authentication
    case "MFA_REQUIRED":
      return "Enter the 6-digit code from your authenticator app.";
    case "MFA_CODE_INVALID": {
      // A recovery code that was already used reads the same as a mistyped one: both are "not right".
      const left = error.data?.attemptsLeft;
      const tries = left ? ` You can try ${left} more time${left === 1 ? "" : "s"} before you have to start again.` : "";
      return `That code is not right, or was already used. Check that your phone's clock is right and enter the newest code from your authenticator app, or an unused recovery code.${tries}`;
    }
    case "MFA_CHALLENGE_INVALID":
      if (error.data?.reason === "too_many_codes") return "Too many wrong codes. For your safety, please start again with your password.";
      return "This sign-in took too long or was already used. Please start again with your password.";
    case "MFA_ALREADY_ENABLED":
      return "Two-factor authentication is already on for your account.";
    case "MFA_UNAVAILABLE":
      return "Two-factor authentication is not available on this server right now (it has no DATA_ENCRYPTION_KEY, or not the right one). Ask its administrator.";
    case "REAUTH_REQUIRED":
      return "For your safety, please log in again (less than 10 minutes ago) before making this change.";
    // Passkeys
    case "PASSKEYS_UNAVAILABLE":
      return error.serverMessage || "Passkeys cannot be used from this page.";
    case "PASSKEY_INVALID":
      if (error.data?.reason === "already_registered") return "This passkey is already registered here, to your account or another one. Sign in with it, or add a passkey from another device.";
      return "Your passkey could not be verified, so it was not added. Please try again; if it keeps failing, try another browser or device.";
    case "CHALLENGE_INVALID":
      return "This passkey request expired or was already used. Please try again.";
    // GitHub
    case "REDIRECT_NOT_ALLOWED":
      return "This page is not allowed to start a sign-in with GitHub: its address is not in the server's ALLOWED_ORIGINS.";
    case "LOGIN_CODE_INVALID":
      return "This sign-in with GitHub expired (it must be finished within a minute) or was already used. Please start again.";
    case "OAUTH_STATE_INVALID":
      return "This sign-in with GitHub took too long, was already used, or was started in another browser. Please start again.";
    case "OAUTH_ACCOUNT_EXISTS":
      return error.serverMessage || "An account here already has this GitHub ID. If it is yours, log in with its password and link GitHub from the Security page.";
    case "OAUTH_DENIED":
      return "You cancelled at GitHub, so nothing happened. Start again when you are ready, or log in with your password.";
    case "OAUTH_EMAIL_UNVERIFIED":
      return "Your GitHub account has no verified primary email address, so no account can be made from it. Verify your address on GitHub (Settings → Emails) and try again, or sign up with a password.";
    case "OAUTH_FAILED":
      return "GitHub could not be reached or did not accept the sign-in. Please try again in a moment.";
    case "OAUTH_NONCE_MISSING":
      return "This sign-in with GitHub was started in another tab or window, so this page cannot finish it safely. Start again from the login page, in this tab.";
    case "INSECURE_PAGE":
      return "Signing in with GitHub needs this page to be served over https (or from localhost). Open it over https and try again.";
    case "LAST_LOGIN_METHOD":
      return "This is your last way to sign in. Add a password, a passkey or GitHub first.";
    default:
      return error.serverMessage || error.message || `The login service answered ${error.status}. Please try again.`;
  }
}

/**
 * What to do about a blocked cookie, for this page and the API at `apiUrl` ("" = this page's origin): shown
 * as a list under BLOCKED_COOKIE_MESSAGE. Items are strings, or `{ text, link }` when the advice is a place to go.
 */
export function blockedCookieAdvice(apiUrl = "") {
  const api = new URL(apiUrl || location.origin, location.href);
  const advice = [
    "If you run the API: send the cookie with the Partitioned attribute (COOKIE_PARTITIONED=true). " +
      "Browsers only keep cookies from another site when they are partitioned.",
  ];
  const loopback = ["localhost", "127.0.0.1"];
  if (loopback.includes(api.hostname) && loopback.includes(location.hostname) && api.hostname !== location.hostname) {
    // localhost and 127.0.0.1 are different sites; the same host name makes the cookie first-party.
    const sameSite = new URL(location.href);
    sameSite.hostname = api.hostname;
    advice.push({ text: "Or open this page on the API's site: ", link: sameSite.href });
  } else {
    advice.push(`Or serve this page from the same site as the API (${api.host}).`);
  }
  advice.push(`Or allow third-party cookies for ${api.hostname} in your browser's settings.`);
  return advice;
}

/** Writes an error into a message element, moves focus there, and tags it with the code for tests. */
export function showError(element, error) {
  if (!element) return;
  const code = isApiError(error) ? error.code : "UNEXPECTED";
  element.replaceChildren(document.createTextNode(describeError(error)));
  if (code === "COOKIE_BLOCKED") {
    const advice = document.createElement("ul");
    for (const line of blockedCookieAdvice(error.apiUrl)) {
      const item = document.createElement("li");
      if (typeof line === "string") {
        item.textContent = line;
      } else {
        const link = document.createElement("a");
        link.href = link.textContent = line.link;
        item.append(line.text, link);
      }
      advice.append(item);
    }
    element.append(advice);
  }
  element.dataset.code = code;
  element.dataset.kind = "error";
  element.hidden = false;
  element.focus();
}

/** Writes a success or info note (no focus move: it is announced by aria-live). */
export function showNote(element, text, kind = "success") {
  if (!element) return;
  element.textContent = text;
  element.dataset.code = "";
  element.dataset.kind = kind;
  element.hidden = false;
}

export function clearMessage(element) {
  if (!element) return;
  element.replaceChildren();
  element.dataset.code = "";
  element.dataset.kind = "";
  element.hidden = true;
}

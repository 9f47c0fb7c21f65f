// Sign in with a passkey (docs/passkeys.md › Pages): the login page's button in #other-sign-ins, and the plain words
// for what can go wrong in a passkey ceremony, shared with the security page (security-passkeys.js).
//
// No uid is typed: the request options name no credential, so the browser offers the passkeys it holds for this
// site (discoverable credentials). The API is asked first; where passkeys cannot work (a page on an IP address, a
// page outside the relying-party ID, passkeys off) it says why, and navigator.credentials is never called.
import { ApiError, apiFetch } from "./api/config.js";
import { clearMessage, showError } from "./messages.js";
import { browserSupportsWebAuthn, startAuthentication } from "./vendor/simplewebauthn/index.js";

/** An ApiError carrying our own words (the pages show ApiErrors; `code` tags the message element for tests). */
function pageError(code, text) {
  const error = new ApiError({ code, message: text });
  error.serverMessage = text;
  return error;
}

/** Before anything is sent: a browser without WebAuthn, or a page that is not a secure context. */
export function passkeysUnsupported() {
  if (!window.isSecureContext) {
    return pageError("PASSKEYS_UNAVAILABLE", "Passkeys need a secure page: open this site over https (or on localhost).");
  }
  if (!browserSupportsWebAuthn()) {
    return pageError("PASSKEYS_UNSUPPORTED", "This browser cannot use passkeys. Use a current Chrome, Edge, Firefox or Safari, or sign in with your password.");
  }
  return null;
}

/**
 * Plain words for a failed navigator.credentials call, as @simplewebauthn/browser reports it (a WebAuthnError with
 * a code, or the browser's DOMException). `during` is "registration" or "sign-in".
 */
export function describePasskeyFailure(error, during) {
  const code = error?.code ?? "";
  const name = error?.name ?? "";
  if (code === "ERROR_CEREMONY_ABORTED" || name === "AbortError" || name === "NotAllowedError") {
    return pageError(
      "PASSKEY_CANCELLED",
      during === "registration"
        ? "No passkey was added: the request was cancelled or timed out. Press the button again when you are ready."
        : "You did not sign in: the passkey request was cancelled or timed out, or this device has no passkey for this site. Try again, or sign in with your password.",
    );
  }
  if (code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED" || name === "InvalidStateError") {
    return pageError("PASSKEY_ALREADY_ON_DEVICE", "This device or password manager already holds a passkey for your account here. You can use that one; to add another, use another device or security key.");
  }
  if (code === "ERROR_INVALID_DOMAIN") {
    return pageError("PASSKEYS_UNAVAILABLE", `Passkeys cannot be used on this page's address (${location.hostname}): browsers allow them only on pages with a host name, over https or on localhost.`);
  }
  if (code === "ERROR_INVALID_RP_ID" || name === "SecurityError") {
    return pageError("PASSKEYS_UNAVAILABLE", `Your browser refused: this page (${location.hostname}) is not on the site the server ties passkeys to. Ask the site's administrator to check WEBAUTHN_RP_ID.`);
  }
  if (code === "ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT" || code === "ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT") {
    return pageError("PASSKEY_AUTHENTICATOR_UNSUITABLE", "That authenticator cannot keep a passkey that unlocks with a PIN, fingerprint or face. Use your device's built-in passkeys, a password manager, or a newer security key.");
  }
  return pageError("PASSKEY_BROWSER_ERROR", `Your browser could not use a passkey (${error?.message || name || "unknown error"}). Please try again.`);
}

/** Signed in if the session cookie came back with the next request; else the browser dropped it. */
async function signedInUser() {
  try {
    return await apiFetch("/api/id");
  } catch (error) {
    if (error instanceof ApiError && error.code === "TOKEN_MISSING") throw new ApiError({ status: 401, code: "COOKIE_BLOCKED", message: "" });
    throw error;
  }
}

/** Only a page of this site: never follow ?next= to another origin (as login.js). */
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") ?? "";
  return /^[A-Za-z0-9_-]+\.html$/.test(next) ? next : "profile.html";
}

/** The whole sign-in: options from the API, the browser's passkey prompt, the API's verdict, the cookie check. */
async function signInWithPasskey(message) {
  const unsupported = passkeysUnsupported();
  if (unsupported) throw unsupported;
  // The API checks this page's origin first: PASSKEYS_UNAVAILABLE (in words) ends it here.
  const optionsJSON = await apiFetch("/api/passkeys/authentication/options", { method: "POST", body: {} });
  let response;
  try {
    response = await startAuthentication({ optionsJSON });
  } catch (error) {
    throw describePasskeyFailure(error, "sign-in");
  }
  try {
    await apiFetch("/api/authenticate/passkey", { method: "POST", body: { response } });
  } catch (error) {
    if (error instanceof ApiError && error.code === "INVALID_CREDENTIALS") {
      throw pageError("PASSKEY_NOT_ACCEPTED", "That passkey was not accepted. It may have been removed from your account, or it was made for another site. Sign in with your password, then add a new passkey on the Security page.");
    }
    throw error;
  }
  clearMessage(message);
  return signedInUser();
}

function renderSignInButton(slot) {
  const button = document.createElement("button");
  button.type = "button";
  button.id = "passkey-sign-in";
  button.className = "secondary";
  button.textContent = "Sign in with a passkey";
  const hint = document.createElement("p");
  hint.className = "hint";
  hint.id = "passkey-sign-in-hint";
  hint.textContent = "No GitHub ID or password needed: your device asks for your fingerprint, face or PIN.";
  button.setAttribute("aria-describedby", hint.id);
  const message = document.createElement("div");
  message.id = "passkey-message";
  message.className = "message";
  message.dataset.testid = "passkey-message";
  message.tabIndex = -1;
  message.setAttribute("aria-live", "polite");
  message.hidden = true;
  const block = document.createElement("div");
  block.className = "actions";
  block.id = "passkey-sign-in-block";
  block.append(button);
  slot.append(block, hint, message);

  button.addEventListener("click", async () => {
    clearMessage(message);
    button.disabled = true;
    try {
      await signInWithPasskey(message);
      location.assign(nextPage());
    } catch (error) {
      showError(message, error);
    } finally {
      button.disabled = false;
    }
  });
}

const slot = document.getElementById("other-sign-ins");
if (slot) renderSignInButton(slot);

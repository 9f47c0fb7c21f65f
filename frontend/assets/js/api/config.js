// Where the API is and how every request to it is made: every page talks to the API only through
// apiFetch() and login(). How failures read to a person lives in ../messages.js (imported here, never the
// other way round, so the two modules do not form a cycle).
import { clearMessage, describeError, showError } from "../messages.js";

/**
 * The API's base URL (routes are appended: `${API_URL}/api/id`).
 * 1. `<meta name="api-uri" content="https://api.example.com">` when non-empty (set it by hand for
 *    GitHub Pages, or let the frontend server write it);
 * 2. on localhost / 127.0.0.1, the same host on the API's default port 8587 — keeping the host is what
 *    keeps a local setup same-site;
 * 3. otherwise "" so requests go to this page's own origin: the same-origin topology, with a proxy
 *    sending `/api` to the API (docs/api.md).
 */
function resolveApiUrl() {
  const configured = document.querySelector('meta[name="api-uri"]')?.getAttribute("content")?.trim() ?? "";
  if (configured) return configured.replace(/\/+$/, "");
  const { protocol, hostname } = location;
  if (hostname === "localhost" || hostname === "127.0.0.1") return `${protocol}//${hostname}:8587`;
  return "";
}

export const API_URL = resolveApiUrl();
export const baseURL = API_URL;

// credentials:"include" is what makes the browser store and send the API's cookie across origins.
// The JSON content type and X-Origin header make every call a CORS preflighted request.
export const fetchOptions = Object.freeze({
  mode: "cors",
  credentials: "include",
  headers: Object.freeze({ "Content-Type": "application/json", "X-Origin": "client" }),
});

/**
 * A failed API call: `code` is the API's stable code, or one of ours (NETWORK_ERROR, COOKIE_BLOCKED, …).
 * `apiUrl` is the API it was about, so messages.js can name it without importing this module.
 */
export class ApiError extends Error {
  constructor({ status = 0, code, message, data = null, retryAfter = null, apiUrl = API_URL }) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.data = data;
    this.retryAfter = retryAfter;
    this.apiUrl = apiUrl;
  }
}

/**
 * The one JSON fetch helper: `apiFetch("/api/user", { method: "PUT", body: {...} })`.
 * `path` is relative to API_URL (or a full URL). Resolves to the parsed body (null for 204); rejects
 * with an ApiError whose message is plain words.
 */
export async function apiFetch(path, { method = "GET", body } = {}) {
  const url = /^https?:\/\//.test(path) ? path : `${API_URL}${path}`;
  const init = { ...fetchOptions, headers: { ...fetchOptions.headers }, method, cache: "no-store" };
  if (body !== undefined) init.body = JSON.stringify(body);

  let response;
  try {
    response = await fetch(url, init);
  } catch {
    // fetch only throws when no HTTP answer could be read: the API is down, unreachable, or its CORS
    // answer did not allow this page's origin. The browser does not say which, on purpose.
    throw withMessage(new ApiError({ code: "NETWORK_ERROR", message: "" }));
  }

  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (response.ok) return payload;

  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  throw withMessage(
    new ApiError({
      status: response.status,
      code: payload?.code ?? `HTTP_${response.status}`,
      message: payload?.message ?? "",
      data: payload?.data ?? null,
      retryAfter: Number.isFinite(retryAfter) ? retryAfter : null,
    }),
  );
}

// The ApiError's message is the plain-words text (what pages show); the API's own text stays in serverMessage.
function withMessage(error) {
  error.serverMessage = error.message;
  error.message = describeError(error);
  return error;
}

/**
 * Log in, in the shape of the flask_2025 helper:
 * `login({ URL, callback, message, method: "POST", body: { uid, password } })`.
 * `message` is the id of the element failures are written into. On success `callback(user)` runs and
 * the user is returned; on failure the message is shown, focused, and null is returned.
 *
 * After the API accepts the password, one more request (GET /api/id) checks that the browser kept the
 * cookie: a 401 TOKEN_MISSING there means it refused it (typically an unpartitioned cross-site cookie).
 *
 * With two-factor on (docs/two-factor.md) a right password answers 401 MFA_REQUIRED: not a failure but a second
 * step. `onMfaRequired(data, { callback, message })` takes it; without it a cancelable "crossauth:mfa-required"
 * event goes to `document` (login-mfa.js takes it on the login page); if nobody takes it, it is shown in words.
 */
export async function login({ URL = `${API_URL}/api/authenticate`, callback, message, method = "POST", body, onMfaRequired }) {
  const messageElement = document.getElementById(message);
  clearMessage(messageElement);
  try {
    await apiFetch(URL, { method, body });
    let user;
    try {
      user = await apiFetch("/api/id");
    } catch (error) {
      if (error instanceof ApiError && error.code === "TOKEN_MISSING") {
        throw withMessage(new ApiError({ status: 401, code: "COOKIE_BLOCKED", message: "" }));
      }
      throw error;
    }
    if (callback) callback(user);
    return user;
  } catch (error) {
    if (error instanceof ApiError && error.code === "MFA_REQUIRED" && secondStepTaken(error.data, { callback, message, onMfaRequired })) return null;
    showError(messageElement, error);
    return null;
  }
}

function secondStepTaken(data, { onMfaRequired, ...options }) {
  if (onMfaRequired) {
    onMfaRequired(data, options);
    return true;
  }
  const event = new CustomEvent("crossauth:mfa-required", { cancelable: true, detail: { data, ...options } });
  return !document.dispatchEvent(event);
}

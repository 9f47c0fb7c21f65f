// Where the API is, how every request to it is made, and how its failures read to a person.
// Shared by every page: they talk to the API only through apiFetch() and login(), and show results with
// showError() / showNote(), so every failure reads the same way everywhere.

/**
 * The API's base URL (routes are appended: `${API_URL}/api/id`).
 * 1. `<meta name="api-uri" content="https://api.example.com">` when non-empty (set it by hand for
 *    GitHub Pages, or let the frontend server write it);
 * 2. on localhost / 127.0.0.1, the same host on the API's default port 8587 — keeping the host is what
 *    keeps a local setup same-site;
 * 3. otherwise "" so requests go to this page's own origin: the same-origin topology, with a proxy
 *    sending `/api` to the API (SPEC §2).
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

/** A failed API call: `code` is the API's stable code, or one of ours (NETWORK_ERROR, COOKIE_BLOCKED, …). */
export class ApiError extends Error {
  constructor({ status = 0, code, message, data = null, retryAfter = null }) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.data = data;
    this.retryAfter = retryAfter;
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

function withMessage(error) {
  error.serverMessage = error.message;
  error.message = describeError(error);
  return error;
}

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

/** Plain words for every failure the pages can meet (SPEC §6). */
export function describeError(error) {
  if (!(error instanceof ApiError)) return "Something unexpected went wrong. Please try again.";
  const origin = location.origin;
  switch (error.code) {
    case "NETWORK_ERROR":
      return (
        `Could not reach the login service at ${API_URL || origin}. It may be down, or it does not ` +
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
    default:
      return error.serverMessage || error.message || `The login service answered ${error.status}. Please try again.`;
  }
}

export const BLOCKED_COOKIE_MESSAGE =
  "Your password was accepted, but your browser blocked the login cookie, so you are not logged in.";

/**
 * What to do about a blocked cookie, for this page and this API: shown as a list under BLOCKED_COOKIE_MESSAGE.
 * Items are strings, or `{ text, link }` when the advice is a place to go.
 */
export function blockedCookieAdvice() {
  const api = new URL(API_URL || location.origin, location.href);
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

/**
 * Log in, in the shape of the flask_2025 helper:
 * `login({ URL, callback, message, method: "POST", body: { uid, password } })`.
 * `message` is the id of the element failures are written into. On success `callback(user)` runs and
 * the user is returned; on failure the message is shown, focused, and null is returned.
 *
 * After the API accepts the password, one more request (GET /api/id) checks that the browser kept the
 * cookie: a 401 TOKEN_MISSING there means it refused it (typically an unpartitioned cross-site cookie).
 */
export async function login({ URL = `${API_URL}/api/authenticate`, callback, message, method = "POST", body }) {
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
    showError(messageElement, error);
    return null;
  }
}

/** Writes an error into a message element, moves focus there, and tags it with the code for tests. */
export function showError(element, error) {
  if (!element) return;
  const code = error instanceof ApiError ? error.code : "UNEXPECTED";
  element.replaceChildren(document.createTextNode(describeError(error)));
  if (code === "COOKIE_BLOCKED") {
    const advice = document.createElement("ul");
    for (const line of blockedCookieAdvice()) {
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

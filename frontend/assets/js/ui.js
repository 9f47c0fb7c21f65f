// Page furniture shared by every page: who is logged in, the nav that shows it, the API footer.
import { API_URL, ApiError, apiFetch } from "./api/config.js";

/**
 * Asks the API who is logged in. Resolves to `{ user }` (null when not logged in) or `{ user: null, error }`
 * when the answer was something other than "no cookie" (expired session, API down, …).
 */
export async function loadSession() {
  try {
    return { user: await apiFetch("/api/id"), error: null };
  } catch (error) {
    if (error instanceof ApiError && error.code === "TOKEN_MISSING") return { user: null, error: null };
    return { user: null, error };
  }
}

function navLink(href, text) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = href;
  link.textContent = text;
  const page = location.pathname.split("/").pop() || "index.html";
  if (page === href) link.setAttribute("aria-current", "page");
  item.append(link);
  return item;
}

/** Fills the header nav: the user's name and their links, or a Log in link. */
export function renderNav(user) {
  const list = document.getElementById("nav-links");
  if (!list) return;
  const items = [navLink("index.html", "Home")];
  if (user) {
    items.push(navLink("profile.html", "Profile"));
    items.push(navLink("security.html", "Security"));
    if (user.role === "Admin") items.push(navLink("admin.html", "Users"));
    items.push(navLink("logout.html", "Log out"));
    const who = document.createElement("li");
    who.className = "nav-user";
    who.dataset.testid = "nav-user";
    who.textContent = user.name;
    who.title = `${user.uid} (${user.role})`;
    items.unshift(who);
  } else {
    items.push(navLink("login.html", "Log in"));
  }
  list.replaceChildren(...items);
}

/** Shows which API this page talks to; helps whoever is wiring a deployment together. */
export function renderFooter() {
  const target = document.getElementById("api-url");
  if (target) target.textContent = API_URL || `${location.origin} (same origin)`;
}

/** A "Log in" link that brings the person back to this page afterwards. */
export function loginLink(text = "Log in") {
  const link = document.createElement("a");
  const here = location.pathname.split("/").pop() || "index.html";
  link.href = `login.html?next=${encodeURIComponent(here)}`;
  link.textContent = text;
  return link;
}

export function formatDate(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** Disables a button while its request runs, so a double click does not send twice. */
export async function whileBusy(button, task) {
  button.disabled = true;
  try {
    return await task();
  } finally {
    button.disabled = false;
  }
}

/** A new element: `props` become properties where the element has them, else attributes; `dataset` fills data-*. */
export function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

// The home page: says who is logged in (GET /api/id) and where to go next.
import { showError } from "./messages.js";
import { loadSession, loginLink, renderFooter, renderNav } from "./ui.js";

const status = document.getElementById("home-status");
const actions = document.getElementById("home-actions");

function buttonLink(href, text, kind = "") {
  const link = document.createElement("a");
  link.href = href;
  link.textContent = text;
  link.className = `button ${kind}`.trim();
  return link;
}

renderFooter();
const { user, error } = await loadSession();
renderNav(user);

if (user) {
  status.textContent = `Welcome back, ${user.name}. You are logged in as ${user.uid} (${user.role}).`;
  actions.append(buttonLink("profile.html", "Your profile"));
  if (user.role === "Admin") actions.append(buttonLink("admin.html", "Manage users", "secondary"));
} else {
  status.textContent = "You are not logged in.";
  if (error) showError(document.getElementById("home-message"), error);
  const login = loginLink("Log in or sign up");
  login.className = "button";
  actions.append(login);
}

// The login page: log in (then go to ?next= or the profile), or sign up and then log in.
import { API_URL, apiFetch, login } from "./api/config.js";
import { clearMessage, showError, showNote } from "./messages.js";
import { loadSession, renderFooter, renderNav, whileBusy } from "./ui.js";
import "./login-mfa.js"; // the two-factor second step (docs/two-factor.md)
import "./login-passkey.js"; // "Sign in with a passkey" (docs/passkeys.md)
import "./login-github.js"; // "Sign in with GitHub" (docs/github.md)

const submitButton = (form) => form.querySelector('button[type="submit"]');

const loginForm = document.getElementById("login-form");
const signupForm = document.getElementById("signup-form");
const loginMessage = document.getElementById("login-message");
const signupMessage = document.getElementById("signup-message");

/** Only a page of this site: never follow ?next= to another origin. */
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") ?? "";
  return /^[A-Za-z0-9_-]+\.html$/.test(next) ? next : "profile.html";
}

loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const uid = loginForm.elements.uid.value.trim();
  const password = loginForm.elements.password.value;
  clearMessage(signupMessage);
  await whileBusy(submitButton(loginForm), () =>
    login({
      URL: `${API_URL}/api/authenticate`,
      method: "POST",
      body: { uid, password },
      message: "login-message",
      callback: () => location.assign(nextPage()),
    }),
  );
});

signupForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = signupForm.elements;
  const body = {
    uid: fields.uid.value.trim(),
    name: fields.name.value.trim(),
    password: fields.password.value,
  };
  // An empty optional email is left out rather than sent as "" (which is not a valid address).
  const email = fields.email.value.trim();
  if (email) body.email = email;

  clearMessage(signupMessage);
  clearMessage(loginMessage);
  await whileBusy(submitButton(signupForm), async () => {
    try {
      const user = await apiFetch("/api/user", { method: "POST", body });
      signupForm.reset();
      showNote(signupMessage, `Account created for ${user.uid}. Log in with your new password.`);
      loginForm.elements.uid.value = user.uid;
      loginForm.elements.password.focus();
    } catch (error) {
      showError(signupMessage, error);
    }
  });
});

renderFooter();
loadSession().then(({ user }) => {
  renderNav(user);
  if (user) showNote(loginMessage, `You are already logged in as ${user.name} (${user.uid}).`, "info");
});

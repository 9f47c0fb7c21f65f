// The security page's email section (placeholder until its feature lands).
export async function renderEmailSection() {
  const panel = document.getElementById("email-panel");
  panel.textContent = "Not available on this server yet.";
}

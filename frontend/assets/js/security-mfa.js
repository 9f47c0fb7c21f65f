// The security page's mfa section (placeholder until its feature lands).
export async function renderMfaSection() {
  const panel = document.getElementById("mfa-panel");
  panel.textContent = "Not available on this server yet.";
}

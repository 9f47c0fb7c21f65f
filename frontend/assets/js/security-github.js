// The security page's github section (placeholder until its feature lands).
export async function renderGithubSection() {
  const panel = document.getElementById("github-panel");
  panel.textContent = "Not available on this server yet.";
}

// The static pages (frontend/*.html) stay plain HTML, deployable as-is: no include mechanism, no build step.
// So the furniture every page repeats — the head, the skip link, the site header, the footer — is kept
// identical by this test instead. Every frontend/*.html is checked, so a new page is covered without edits.
import fs from "node:fs";
import path from "node:path";
import { CONTENT_SECURITY_POLICY } from "../../backend/frontend-server";

const FRONTEND = path.resolve(__dirname, "../../frontend");
// The reference every page is compared with: the home page, which every brand link points at.
const REFERENCE = "index.html";

interface Line {
  number: number; // 1-based, in the file
  text: string; // trimmed: re-indenting is not a difference
}

interface Page {
  name: string;
  html: string;
  lines: Line[];
}

function readPage(name: string): Page {
  const html = fs.readFileSync(path.join(FRONTEND, name), "utf8");
  const lines = html.split(/\r?\n/).map((raw, i) => ({ number: i + 1, text: raw.trim() }));
  return { name, html, lines };
}

const pageNames = fs
  .readdirSync(FRONTEND)
  .filter((name) => name.endsWith(".html"))
  .sort();

const TITLE = /^<title>.*<\/title>$/;
const MODULE_SCRIPT = /^<script type="module" src="[^"]+"><\/script>$/;
// The one part of the header allowed to differ: the current page's nav link is marked.
const ARIA_CURRENT = /\s+aria-current="page"/;

/** The lines from the first one matching `start` to the first one after it matching `end`, blank lines left out. */
function block(page: Page, start: RegExp, end: RegExp, what: string): { lines: Line[]; problems: string[] } {
  const first = page.lines.findIndex((line) => start.test(line.text));
  if (first === -1) return { lines: [], problems: [`${page.name}: no ${what} found`] };
  const last = page.lines.findIndex((line, i) => i >= first && end.test(line.text));
  if (last === -1) return { lines: [], problems: [`${page.name}:${page.lines[first].number}: ${what} is never closed`] };
  const problems =
    page.lines.slice(last + 1).some((line) => start.test(line.text))
      ? [`${page.name}: more than one ${what}`]
      : [];
  return { lines: page.lines.slice(first, last + 1).filter((line) => line.text !== ""), problems };
}

/** The page's shared parts, each as the lines to compare (already normalised). */
function sharedParts(page: Page): { parts: Record<string, Line[]>; problems: string[] } {
  const problems: string[] = [];
  const take = (start: RegExp, end: RegExp, what: string) => {
    const found = block(page, start, end, what);
    problems.push(...found.problems);
    return found.lines;
  };

  // Everything up to </head> (doctype, <html lang>, the head), less the page's own title and script.
  const head = take(/^<!doctype html>$/i, /<\/head>$/, "<!doctype html> … </head>").filter(
    (line) => !TITLE.test(line.text) && !MODULE_SCRIPT.test(line.text),
  );
  const skipLink = take(/class="skip-link"/, /class="skip-link"/, "skip link");
  const header = take(/^<header class="site-header">/, /<\/header>$/, '<header class="site-header">').map((line) => ({
    ...line,
    text: line.text.replace(new RegExp(ARIA_CURRENT, "g"), ""),
  }));
  const footer = take(/^<footer\b/, /<\/footer>$/, "<footer>");
  return { parts: { head, "skip link": skipLink, "site header": header, footer }, problems };
}

/** The first line where `actual` differs from `expected`, named for a person to find in both files. */
function firstDifference(part: string, reference: Page, expected: Line[], page: Page, actual: Line[]): string | null {
  const length = Math.max(expected.length, actual.length);
  for (let i = 0; i < length; i++) {
    const want = expected[i];
    const got = actual[i];
    if (want?.text === got?.text) continue;
    if (!got) return `${page.name}: ${part} is missing the line ${reference.name}:${want.number} has: ${want.text}`;
    if (!want) return `${page.name}:${got.number}: ${part} has an extra line that ${reference.name} does not: ${got.text}`;
    return `${page.name}:${got.number}: ${part} differs from ${reference.name}:${want.number}\n  expected: ${want.text}\n  found:    ${got.text}`;
  }
  return null;
}

/** Start tags with their line; `bare` has quoted values emptied, so their text cannot look like an attribute. */
function startTags(page: Page): { tag: string; bare: string; name: string; where: string }[] {
  // Comments are blanked, keeping their newlines so line numbers stay right.
  const html = page.html.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, " "));
  return [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*>/g)].map((match) => ({
    tag: match[0],
    bare: match[0].replace(/"[^"]*"|'[^']*'/g, '""'),
    name: match[1].toLowerCase(),
    where: `${page.name}:${html.slice(0, match.index).split("\n").length}`,
  }));
}

describe("frontend pages", () => {
  it("carry in a <meta> tag the Content-Security-Policy the frontend server sends (frame-ancestors aside)", () => {
    const served = CONTENT_SECURITY_POLICY.split("; ").filter((d) => !d.startsWith("frame-ancestors"));
    for (const page of pageNames) {
      const html = fs.readFileSync(path.join(FRONTEND, page), "utf8");
      const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
      expect([page, meta?.[1].split("; ")]).toEqual([page, served]);
    }
  });

  it("finds the pages, the reference page among them", () => {
    expect(pageNames).toContain(REFERENCE);
    expect(pageNames.length).toBeGreaterThan(1);
  });

  const reference = readPage(REFERENCE);
  const referenceParts = sharedParts(reference);

  describe.each(pageNames)("%s", (name) => {
    const page = readPage(name);

    it(`shares the head, skip link, site header and footer of ${REFERENCE}`, () => {
      const { parts, problems } = sharedParts(page);
      problems.push(...referenceParts.problems);
      for (const [part, lines] of Object.entries(parts)) {
        const difference = firstDifference(part, reference, referenceParts.parts[part], page, lines);
        if (difference) problems.push(difference);
      }
      expect(problems).toEqual([]);
    });

    it("has one <title> and one module script of its own, and the script exists", () => {
      const head = page.html.slice(0, page.html.search(/<\/head>/i));
      const titles = page.lines.filter((line) => TITLE.test(line.text));
      const scripts = [...head.matchAll(/<script type="module" src="([^"]+)"><\/script>/g)].map((m) => m[1]);
      expect(titles.map((line) => line.text)).toHaveLength(1);
      expect(scripts).toHaveLength(1);
      expect(fs.existsSync(path.join(FRONTEND, scripts[0]))).toBe(true);
    });

    it("marks only its own nav link as the current page", () => {
      const header = block(page, /^<header class="site-header">/, /<\/header>$/, "header").lines;
      const marked = header
        .filter((line) => ARIA_CURRENT.test(line.text))
        .map((line) => `${name}:${line.number}: ${line.text}`);
      const wrong = marked.filter((line) => !line.includes(`href="${name}"`));
      expect(wrong).toEqual([]);
      expect(marked.length).toBeLessThanOrEqual(1);
    });

    it("has exactly one <h1>", () => {
      const h1s = startTags(page).filter((tag) => tag.name === "h1").map(({ where, tag }) => `${where}: ${tag}`);
      expect(h1s).toHaveLength(1);
    });

    it("has no inline script and no on…= handler attribute", () => {
      const problems = startTags(page).flatMap(({ tag, bare, name: tagName, where }) => {
        const found: string[] = [];
        if (tagName === "script" && !/\ssrc\s*=/i.test(bare)) found.push(`${where}: inline <script> without src: ${tag}`);
        const handler = bare.match(/\s(on[a-z]+)\s*=/i);
        if (handler) found.push(`${where}: inline ${handler[1]}= handler: ${tag}`);
        return found;
      });
      expect(problems).toEqual([]);
    });

    it("has a skip link whose target exists", () => {
      const target = page.html.match(/<a class="skip-link" href="#([^"]+)"/)?.[1];
      expect(target).toBeDefined();
      expect(page.html).toContain(`id="${target}"`);
    });
  });
});

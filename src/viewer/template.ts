/**
 * The page around the viewer: one HTML file with the stylesheet, the data (JSON in a
 * non-executed script element) and the script, all inline. A Content-Security-Policy
 * allows only that one script (by hash) and that one stylesheet, and no connection
 * except to the page's own server when served, so the page can fetch nothing and an
 * injected script could not run even if escaping failed.
 */
import { createHash } from 'node:crypto';

export interface PageParts {
  css: string;
  /** The data, already made safe for a script element by `jsonForScript`. */
  dataJson: string;
  /** More data elements, each JSON made safe by `jsonForScript`, with its element id. */
  dataParts?: { id: string; json: string }[];
  script: string;
  /** Allow requests to the page's own origin (the "stop server" button). */
  connectSelf: boolean;
}

const sha256 = (text: string) =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * JSON that can sit inside `<script type="application/json">`: `<`, `>` and `&` as
 * `\\u003c`…, so no `</script>` or `<!--` can end or change the element, and U+2028 and
 * U+2029 escaped too. `JSON.parse` reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

export function page(parts: PageParts): string {
  return pageParts(parts).join('');
}

/** The page in pieces (the data elements each a piece of their own), to be written in order. */
export function pageParts(parts: PageParts): string[] {
  for (const [name, text] of [
    ['script', parts.script],
    ['stylesheet', parts.css],
  ] as const) {
    if (/<\/(script|style)|<!--/i.test(text)) {
      throw new Error(`viewer ${name} contains a sequence that would end its element early`);
    }
  }
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(parts.script)}`,
    `style-src ${sha256(parts.css)}`,
    'img-src data:',
    `connect-src ${parts.connectSelf ? "'self'" : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const head = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>heapscope viewer</title>
<style>${parts.css}</style>
</head>
<body>
<noscript>The heapscope viewer needs JavaScript.</noscript>
<script type="application/json" id="heapscope-data">`;
  const out = [head, parts.dataJson, '</script>\n'];
  for (const d of parts.dataParts ?? []) {
    out.push(`<script type="application/json" id="${d.id}">`, d.json, '</script>\n');
  }
  out.push(`<script>${parts.script}</script>
</body>
</html>
`);
  return out;
}

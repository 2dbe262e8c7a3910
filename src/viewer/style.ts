/** The viewer's stylesheet, inlined into the page. */
export const VIEWER_CSS = `
:root {
  --fg: #1d2329; --dim: #66707a; --bg: #fff; --line: #e3e6ea; --accent: #c2410c;
  --sel: #fff3e0; --hover: #f6f7f9; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color-scheme: light;
}
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; color: var(--fg); background: var(--bg); }
button, select, input { font: inherit; }
button { border: 1px solid var(--line); background: #fafbfc; border-radius: 4px; padding: 3px 10px; cursor: pointer; }
button:hover { background: var(--hover); }
:focus-visible { outline: 2px solid #2563eb; outline-offset: -2px; }
.dim { color: var(--dim); }
.error { color: #b91c1c; padding: 1em; font-family: var(--mono); }
header.top { display: flex; gap: 24px; padding: 12px 16px 8px; border-bottom: 1px solid var(--line); background: #fbfbfc; }
.file-header { flex: 1; min-width: 0; }
.file-header .role { font-weight: 600; color: var(--accent); text-transform: uppercase; font-size: 11px; letter-spacing: .05em; }
h1.cmd { font: 600 15px/1.3 var(--mono); margin: 0 0 2px; overflow-wrap: anywhere; }
.facts { color: var(--dim); font-size: 12px; overflow-wrap: anywhere; }
.file-name { font-family: var(--mono); }
table.totals { border-collapse: collapse; margin: 6px 0 4px; }
table.totals th { text-align: left; font-weight: 600; padding: 1px 14px 1px 0; }
table.totals td { padding: 1px 10px 1px 0; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { font-size: 11px; border-radius: 8px; padding: 0 7px; border: 1px solid; }
.badge.exact { color: #166534; border-color: #86efac; background: #f0fdf4; }
.badge.estimate { color: #92400e; border-color: #fcd34d; background: #fffbeb; }
ul.notes { margin: 4px 0 0; padding-left: 18px; color: var(--dim); font-size: 12px; }
.timeline-section { padding: 6px 16px; border-bottom: 1px solid var(--line); }
.timeline-section h2 { font-size: 13px; margin: 0; }
svg.timeline { width: 100%; max-width: 1100px; height: auto; display: block; }
svg.timeline text { font-size: 10px; fill: var(--dim); }
svg.timeline .grid { stroke: var(--line); }
svg.timeline .area { fill: #fed7aa; opacity: .6; }
svg.timeline .line { fill: none; stroke: var(--accent); stroke-width: 1.5; }
svg.timeline .peak { stroke: #2563eb; stroke-dasharray: 4 3; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 14px; padding: 8px 16px; border-bottom: 1px solid var(--line); }
.controls label { display: inline-flex; gap: 6px; align-items: center; }
.search { width: 260px; padding: 3px 8px; border: 1px solid #c9ced4; border-radius: 4px; }
.match-count { color: var(--dim); }
.stop { margin-left: auto; }
.tabs { display: flex; gap: 2px; padding: 6px 16px 0; border-bottom: 1px solid var(--line); }
.tabs [role=tab] { border: 1px solid transparent; border-bottom: none; border-radius: 4px 4px 0 0; background: none; padding: 5px 14px; }
.tabs [role=tab][aria-selected=true] { border-color: var(--line); background: var(--bg); font-weight: 600; margin-bottom: -1px; }
main.split { display: flex; align-items: flex-start; min-height: 60vh; }
.panel { flex: 1 1 62%; min-width: 0; padding: 8px 0 24px; overflow-x: auto; }
.details { flex: 0 0 38%; max-width: 620px; padding: 10px 16px; border-left: 1px solid var(--line); position: sticky; top: 0; max-height: 100vh; overflow: auto; }
.details h2 { font-size: 14px; margin: 0 0 6px; }
.details h3 { font-size: 12px; margin: 12px 0 4px; color: var(--dim); font-weight: 600; }
dl.facts-list { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
dl.facts-list dt { color: var(--dim); }
dl.facts-list dd { margin: 0; }
pre.dh { font: 11.5px/1.45 var(--mono); white-space: pre-wrap; overflow-wrap: anywhere; background: #f8f9fa; padding: 8px; border-radius: 4px; margin: 0; }
pre.dh b { color: var(--accent); }
ol.stack { margin: 0; padding-left: 26px; font: 12px/1.5 var(--mono); }
ol.stack li { overflow-wrap: anywhere; }
.fn { font-family: var(--mono); }
.loc { font-family: var(--mono); color: var(--dim); margin-left: .6em; }
.more { font-size: 11px; color: var(--dim); border: 1px solid var(--line); border-radius: 6px; padding: 0 4px; margin-left: .6em; }
.tree-head, .row { display: grid; grid-template-columns: repeat(var(--cols, 4), minmax(84px, max-content)) minmax(300px, 1fr); align-items: center; column-gap: 10px; padding: 0 16px; }
.tree-head { color: var(--dim); font-size: 11.5px; border-bottom: 1px solid var(--line); padding-bottom: 3px; }
.tree-head .sorted { color: var(--accent); font-weight: 600; }
.row { cursor: default; white-space: nowrap; border-bottom: 1px solid #f3f4f6; min-height: 22px; }
.row:hover { background: var(--hover); }
.row.selected { background: var(--sel); }
.row .num { position: relative; font-size: 12px; }
.row .num.sorted { font-weight: 600; }
.row .num small { color: var(--dim); font-weight: 400; }
.row .bar { position: absolute; left: 0; bottom: 2px; height: 3px; background: var(--accent); opacity: .55; border-radius: 2px; }
.row .label { overflow: hidden; text-overflow: ellipsis; }
.row .arrow { display: inline-block; width: 1.2em; color: var(--dim); cursor: pointer; }
.row.insig .fn, .row.insig .num { color: var(--dim); }
.row.aggregate .fn { font-style: italic; }
.row .label.match .fn { background: #dbeafe; border-radius: 2px; }
.row.lt100 .label .fn { font-weight: 600; }
.more-row { color: var(--dim); font-style: italic; }
.threshold { margin: 8px 16px; font-size: 12px; }
table.sites { border-collapse: collapse; margin: 0 16px; }
table.sites th, table.sites td { padding: 2px 10px 2px 0; border-bottom: 1px solid #f3f4f6; }
table.sites th { text-align: left; color: var(--dim); font-weight: 500; font-size: 11.5px; }
table.sites th.num { text-align: right; }
table.sites th.sorted, table.sites td.sorted { color: var(--accent); font-weight: 600; }
table.sites tr[tabindex]:hover { background: var(--hover); cursor: default; }
table.sites tr.selected { background: var(--sel); }
td.site { white-space: nowrap; }
.caller { color: var(--dim); font-family: var(--mono); }
.panel > p.dim { margin: 4px 16px 8px; }
.panel > h2 { font-size: 14px; margin: 6px 16px; }
table.diff-totals { border-collapse: collapse; margin: 4px 16px 8px; }
table.diff-totals th, table.diff-totals td { padding: 2px 12px 2px 0; }
table.diff-totals th { text-align: left; font-weight: 500; }
table.diff-totals tr.sorted th { color: var(--accent); }
.up { color: #b91c1c; }
.down { color: #15803d; }
.flame-bar { display: flex; justify-content: space-between; align-items: center; padding: 0 16px 6px; }
.flame-holder { padding: 0 16px; }
svg.flame { display: block; font: 11px var(--mono); }
svg.flame text { fill: #1d2329; pointer-events: none; }
svg.flame g.frame:hover rect, svg.flame g.frame:focus rect { stroke: #1d2329; stroke-width: 1; }
.flame-status { padding: 6px 16px; font: 12px var(--mono); color: var(--dim); min-height: 2em; overflow-wrap: anywhere; }
`;

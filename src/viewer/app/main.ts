/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * heapscope's viewer: the page's entry point. Reads the embedded JSON, keeps the view
 * state (file, sort metric, tree direction, folding, search, tab), and renders the
 * sections: totals header, memory-over-time chart, controls, the program-point tree,
 * the icicle graph, the list of sites, the diff, and the details panel.
 *
 * Sections (in dependency order, like dh_view.js):
 *   Globals · Derived data · Controls · Rendering · Top level
 */

import { GROUP_BYS, type GroupBy, groupedProfile } from '../../model/aggregate.js';
import { type DiffResult, diffProfiles } from '../../model/diff.js';
import { availableSortMetrics, type SortMetric } from '../../model/metrics.js';
import type { Profile } from '../../model/profile.js';
import {
  arrangeTree,
  buildTree,
  type ProgramPointTree,
  type ShownNode,
  type TreeDirection,
} from '../../model/tree.js';
import {
  framePartId,
  fromPageProfile,
  type PageData,
  timelineOf,
  type ViewerData,
} from './data.js';
import { renderDetails } from './details.js';
import { renderDiff, renderDiffRow } from './diff-view.js';
import { h } from './dom.js';
import { renderFlame } from './flame.js';
import { type Format, makeFormat } from './format.js';
import { fileHeader } from './header.js';
import { type SearchResult, search } from './search.js';
import { renderSites } from './sites.js';
import { renderTimeline } from './timeline.js';
import { renderTree, type TreeHandle } from './tree-view.js';

//------------------------------------------------------------//
//--- Globals                                              ---//
//------------------------------------------------------------//

type Tab = 'tree' | 'flame' | 'sites' | 'diff';

const TABS: readonly { id: Tab; label: string }[] = [
  { id: 'tree', label: 'Tree' },
  { id: 'flame', label: 'Icicle graph' },
  { id: 'sites', label: 'Sites' },
  { id: 'diff', label: 'Diff' },
];

/** What a row is: a program point, or a group of frames with its self or inclusive figures. */
type Grouping = 'site' | `${GroupBy}:self` | `${GroupBy}:inclusive`;

const GROUPINGS: readonly { id: Grouping; label: string }[] = [
  { id: 'site', label: 'Program points' },
  ...GROUP_BYS.flatMap((by) => [
    { id: `${by}:self` as Grouping, label: `${by[0]!.toUpperCase()}${by.slice(1)}s, self` },
    {
      id: `${by}:inclusive` as Grouping,
      label: `${by[0]!.toUpperCase()}${by.slice(1)}s, inclusive`,
    },
  ]),
];

interface State {
  /** Which file the tree, icicle and sites show (the head when there are two). */
  file: number;
  /** Program points, or groups of frames (as `report --by`). */
  group: Grouping;
  metric: string;
  direction: TreeDirection;
  fold: boolean;
  query: string;
  tab: Tab;
}

/** The embedded data, read once. */
let gData: ViewerData;
let gDiff: DiffResult | undefined;
/** With two files that cannot be compared: why. */
let gDiffError: string | undefined;
/** The grouping the page opens with (`heapscope view --by`). */
let gInitialGroup: Grouping = 'site';
let gState: State;

//------------------------------------------------------------//
//--- Derived data (memoised on the state it depends on)   ---//
//------------------------------------------------------------//

function memo<K, V>(f: (k: K) => V, keyOf: (k: K) => string): (k: K) => V {
  let lastKey: string | undefined;
  let last: V;
  return (k) => {
    const key = keyOf(k);
    if (key !== lastKey) {
      last = f(k);
      lastKey = key;
    }
    return last;
  };
}

/** A file's profile as the grouping shows it: its own, or one program point per group. */
function shownProfile(file: number, group: Grouping): Profile {
  const p = gData.files[file]!.profile;
  if (group === 'site') return p;
  const [by, figures] = group.split(':') as [GroupBy, 'self' | 'inclusive'];
  const key = `${file}\0${group}`;
  let g = gGrouped.get(key);
  if (!g) {
    g = groupedProfile(p, by, figures);
    gGrouped.set(key, g);
  }
  return g;
}
const gGrouped = new Map<string, Profile>();

const profileOf = (st: State): Profile => shownProfile(st.file, st.group);

/** With two files: their diff in the grouping (computed once per grouping), or why none. */
const diffOf = memo(
  (st: State): { diff?: DiffResult; error?: string } => {
    if (gData.files.length !== 2) return {};
    try {
      const base = shownProfile(0, st.group);
      const head = shownProfile(1, st.group);
      return {
        diff: diffProfiles(base, head, {
          top: DIFF_ROWS,
          ...(st.group === 'site' ? {} : { fuzzy: false }),
        }),
      };
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      return { error: `no diff: ${e.message}` };
    }
  },
  (st) => st.group,
);

const searchOf = memo(
  (st: State): SearchResult => search(profileOf(st), st.query),
  (st) => `${st.file}\0${st.group}\0${st.query}`,
);

const treeOf = memo(
  (st: State): ProgramPointTree =>
    buildTree(profileOf(st), { direction: st.direction, points: searchOf(st).points }),
  (st) => `${st.file}\0${st.group}\0${st.query}\0${st.direction}`,
);

const metricsOf = memo(
  (st: State): SortMetric[] => availableSortMetrics(profileOf(st)),
  (st) => `${st.file}\0${st.group}`,
);

function metricOf(st: State): SortMetric {
  const all = metricsOf(st);
  return all.find((m) => m.id === st.metric) ?? all[0]!;
}

const arrangedOf = memo(
  (st: State): ShownNode => arrangeTree(treeOf(st), metricOf(st), profileOf(st), { fold: st.fold }),
  (st) => `${st.file}\0${st.group}\0${st.query}\0${st.direction}\0${metricOf(st).id}\0${st.fold}`,
);

const formatOf = memo(
  (st: State): Format => makeFormat(profileOf(st)),
  (st) => String(st.file),
);

//------------------------------------------------------------//
//--- Controls                                             ---//
//------------------------------------------------------------//

const el = {
  header: h('header', { class: 'top' }),
  timeline: h('section', { class: 'timeline-section', 'aria-label': 'Memory over time' }),
  controls: h('div', { class: 'controls', role: 'toolbar', 'aria-label': 'View' }),
  tabs: h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Views' }),
  panel: h('div', { class: 'panel', role: 'tabpanel', tabindex: -1 }),
  details: h('aside', { class: 'details', 'aria-label': 'Details', 'aria-live': 'polite' }),
  status: h('span', { class: 'match-count', 'aria-live': 'polite' }),
  searchBox: h('input', {
    type: 'search',
    class: 'search',
    placeholder: 'Search function or file  ( / )',
    'aria-label': 'Search function or file',
    autocomplete: 'off',
    spellcheck: 'false',
  }),
  sort: h('select', { 'aria-label': 'Sort metric' }),
};
let gTree: TreeHandle | undefined;

function labelled(text: string, control: HTMLElement): HTMLElement {
  return h('label', {}, h('span', { class: 'dim' }, text), control);
}

function buildControls(): void {
  const parts: HTMLElement[] = [];
  if (gData.files.length > 1) {
    const fileSel = h(
      'select',
      { 'aria-label': 'File shown' },
      ...gData.files.map((f, i) =>
        h(
          'option',
          { value: i, selected: i === gState.file },
          `${i === 0 ? 'Base' : 'Head'}: ${f.name}`,
        ),
      ),
    );
    fileSel.addEventListener('change', () => setState({ file: Number(fileSel.value) }));
    parts.push(labelled('File', fileSel));
  }
  const groupSel = h(
    'select',
    { 'aria-label': 'Rows' },
    ...GROUPINGS.map((g) => h('option', { value: g.id, selected: g.id === gState.group }, g.label)),
  );
  groupSel.addEventListener('change', () => setState({ group: groupSel.value as Grouping }));
  parts.push(labelled('Rows', groupSel));
  el.sort.addEventListener('change', () => setState({ metric: el.sort.value }));
  parts.push(labelled('Sort metric', el.sort));

  const dir = h(
    'select',
    { 'aria-label': 'Tree direction' },
    h(
      'option',
      { value: 'sites', selected: gState.direction === 'sites' },
      'Allocation sites first (dh_view)',
    ),
    h('option', { value: 'callers', selected: gState.direction === 'callers' }, 'Callers first'),
  );
  dir.addEventListener('change', () => setState({ direction: dir.value as TreeDirection }));
  parts.push(labelled('Tree', dir));

  const fold = h('input', { type: 'checkbox', checked: gState.fold });
  fold.addEventListener('change', () => setState({ fold: fold.checked }));
  parts.push(h('label', {}, fold, ' Fold insignificant'));

  let timer: number | undefined;
  el.searchBox.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => setState({ query: el.searchBox.value }), 120);
  });
  el.searchBox.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      el.searchBox.value = '';
      setState({ query: '' });
    } else if (e.key === 'Enter') {
      window.clearTimeout(timer);
      setState({ query: el.searchBox.value });
    }
  });
  parts.push(el.searchBox, el.status);

  const expand = h('button', { type: 'button' }, 'Expand all');
  expand.addEventListener('click', () => gTree?.expandAll());
  const collapse = h('button', { type: 'button' }, 'Collapse all');
  collapse.addEventListener('click', () => gTree?.collapseAll());
  parts.push(expand, collapse);

  if (gData.server) parts.push(stopButton(gData.server));
  if (gDiffError) parts.push(h('span', { class: 'dim' }, gDiffError));
  el.controls.replaceChildren(...parts);

  for (const t of TABS) {
    if (t.id === 'diff' && !gDiff) continue;
    const b = h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${t.id}`,
        'data-tab': t.id,
        'aria-controls': 'panel',
      },
      t.label,
    );
    b.addEventListener('click', () => setState({ tab: t.id }));
    el.tabs.append(b);
  }
  el.tabs.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const tabs = [...el.tabs.querySelectorAll<HTMLButtonElement>('[role=tab]')];
    const i = tabs.findIndex((b) => b.dataset.tab === gState.tab);
    const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]!;
    setState({ tab: next.dataset.tab as Tab });
    next.focus();
  });
}

function stopButton(server: NonNullable<ViewerData['server']>): HTMLElement {
  const b = h('button', { type: 'button', class: 'stop' }, 'Stop server');
  b.addEventListener('click', async () => {
    b.setAttribute('disabled', '');
    try {
      const r = await fetch(server.closePath, {
        method: 'POST',
        headers: { 'x-heapscope-token': server.token },
      });
      b.textContent = r.ok ? 'Server stopped: you can close this tab' : `Stop failed (${r.status})`;
    } catch {
      b.textContent = 'Server stopped: you can close this tab';
    }
  });
  return b;
}

function syncControls(): void {
  const p = profileOf(gState);
  const fmt = formatOf(gState);
  const metrics = metricsOf(gState);
  const current = metricOf(gState);
  el.sort.replaceChildren(
    ...metrics.map((m) =>
      h(
        'option',
        { value: m.id, selected: m.id === current.id },
        m.label(fmt.bytesUnit, fmt.blocksUnit),
      ),
    ),
  );
  const found = searchOf(gState);
  el.status.textContent = gState.query.trim()
    ? `${found.points.length.toLocaleString()} of ${p.programPoints.length.toLocaleString()} program points match`
    : '';
  for (const b of el.tabs.querySelectorAll<HTMLElement>('[role=tab]')) {
    const on = b.dataset.tab === gState.tab;
    b.setAttribute('aria-selected', String(on));
    b.setAttribute('tabindex', on ? '0' : '-1');
  }
  el.panel.setAttribute('aria-labelledby', `tab-${gState.tab}`);
}

//------------------------------------------------------------//
//--- Rendering                                            ---//
//------------------------------------------------------------//

function showNode(n: ShownNode): void {
  renderDetails(el.details, {
    profile: profileOf(gState),
    node: n,
    root: arrangedOf(gState),
    metric: metricOf(gState),
    fmt: formatOf(gState),
    direction: gState.direction,
  });
}

function renderPanel(): void {
  const st = gState;
  const profile = profileOf(st);
  const fmt = formatOf(st);
  const metric = metricOf(st);
  const found = searchOf(st);
  gTree = undefined;
  el.panel.className = `panel panel-${st.tab}`;
  if (st.tab === 'tree') {
    gTree = renderTree(
      el.panel,
      {
        profile,
        root: arrangedOf(st),
        metric,
        fmt,
        ...(found.frames ? { matches: found.frames } : {}),
      },
      showNode,
    );
  } else if (st.tab === 'flame') {
    renderFlame(el.panel, {
      profile,
      points: found.points,
      metric,
      fmt,
      ...(found.frames ? { matches: found.frames } : {}),
    });
    showNode(arrangedOf(st));
  } else if (st.tab === 'sites') {
    renderSites(
      el.panel,
      { profile, points: found.points, root: arrangedOf(st), metric, fmt },
      showNode,
    );
    showNode(arrangedOf(st));
  } else if (st.tab === 'diff' && gDiff) {
    const names: [string, string] = [gData.files[0]!.name, gData.files[1]!.name];
    const { diff, error } = diffOf(st);
    if (!diff) {
      el.panel.replaceChildren(h('p', { class: 'dim' }, error ?? 'no diff'));
      return;
    }
    renderDiff(el.panel, { diff, names, key: metric.key, query: st.query, fmt }, (row) =>
      renderDiffRow(el.details, row, diff, fmt),
    );
    el.details.replaceChildren(
      h('p', { class: 'dim' }, 'Select a site to see its figures on both sides.'),
    );
  }
}

function setState(change: Partial<State>): void {
  gState = { ...gState, ...change };
  syncControls();
  renderPanel();
}

//------------------------------------------------------------//
//--- Top level                                            ---//
//------------------------------------------------------------//

/** Diff rows the page keeps (the largest changes; the counts cover every site). */
const DIFF_ROWS = 20_000;

function readJson(id: string): unknown {
  const node = document.getElementById(id);
  if (!node?.textContent) throw new Error(`this page carries no ${id}`);
  return JSON.parse(node.textContent);
}

function readData(): ViewerData {
  const data = readJson('heapscope-data') as PageData;
  if (data.version !== 2 || !Array.isArray(data.files) || data.files.length === 0) {
    throw new Error('this page carries profile data of an unknown version');
  }
  const files = data.files.map((f, file) => {
    const parts: string[][] = [];
    for (let part = 0; part < f.profile.frameParts; part++) {
      parts.push(readJson(framePartId(file, part)) as string[]);
    }
    return { name: f.name, profile: fromPageProfile(f.profile, parts) };
  });
  gInitialGroup = GROUPINGS.some((g) => g.id === data.group) ? (data.group as Grouping) : 'site';
  return { files, ...(data.server ? { server: data.server } : {}) };
}

function boot(): void {
  gData = readData();
  performance.mark('heapscope-data-read');
  const files = gData.files;
  const head = files.length - 1;
  gState = {
    file: head,
    metric: 'total-bytes',
    direction: 'sites',
    fold: true,
    query: '',
    group: gInitialGroup,
    tab: 'tree',
  };
  // The diff of the first grouping decides whether there is a diff tab.
  const first = diffOf(gState);
  gDiff = first.diff;
  gDiffError = first.error;
  if (gDiff) gState = { ...gState, tab: 'diff' };
  const cmd = files[head]!.profile.cmd;
  document.title = `heapscope – ${cmd}`;

  el.header.replaceChildren(
    ...files.map((f, i) =>
      fileHeader(f, files.length > 1 ? (i === 0 ? 'Base' : 'Head') : undefined),
    ),
  );
  const timeline = timelineOf(files[head]!.profile);
  if (timeline) renderTimeline(el.timeline, timeline, files[head]!.profile, formatOf(gState));
  buildControls();
  el.panel.id = 'panel';
  // The page's own script elements stay; the app goes in before them.
  document.querySelector('noscript')?.remove();
  document.body.prepend(
    el.header,
    timeline ? el.timeline : '',
    el.controls,
    el.tabs,
    h('main', { class: 'split' }, el.panel, el.details),
  );
  syncControls();
  renderPanel();

  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement;
    const typing = t.closest('input, select, textarea, [contenteditable]');
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      el.searchBox.focus();
      el.searchBox.select();
    }
  });
  document.documentElement.setAttribute('data-rendered', 'true');
  performance.mark('heapscope-rendered');
}

try {
  boot();
} catch (e) {
  document.body.prepend(
    h('p', { class: 'error', role: 'alert' }, `heapscope viewer: ${(e as Error).message}`),
  );
  document.documentElement.setAttribute('data-rendered', 'error');
}

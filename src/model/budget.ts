/**
 * Memory budgets: limits on a profile's totals, on the sites of a function or file, and
 * on the growth against a baseline profile. `checkProfile` says, rule by rule, whether
 * the profile keeps within them. A limit is the largest value allowed: a profile whose
 * value equals the limit passes, one byte more fails.
 *
 * Pure: no I/O; the budget file is read by `formats/budget-file.ts`.
 */

import { type GroupBy, groupProgramPoints } from './aggregate.js';
import { parseFrame } from './frame.js';
import {
  type AdditiveMetricKey,
  availableMetrics,
  METRICS,
  type MetricInfo,
  type MetricKey,
} from './metrics.js';
import type { Profile, ProgramPoint } from './profile.js';

/** Largest allowed value per metric (bytes for byte metrics, counts for blocks). */
export type Limits = Partial<Record<MetricKey, number>>;

/** Allowed growth against the baseline: a percentage of the baseline's value, or an amount in the metric's unit. */
export type Increase = { percent: number } | { amount: number };

export interface SiteBudget {
  /** Function-name pattern: a glob (`parse*`) or a regular expression in slashes (`/^parse/i`). */
  function?: string;
  /**
   * File pattern: a glob (`src/cache/**`; without a slash it matches the base name:
   * `cache.js`) or a regular expression in slashes.
   */
  file?: string;
  /**
   * `stack` (default): a program point counts when any frame of its stack matches (what
   * the function and its callees allocate); `site`: only its allocating frame.
   */
  match?: 'stack' | 'site';
  max?: Limits;
  maxIncrease?: Increase;
}

export interface Budgets {
  /** Limits on the profile's totals. */
  max?: Limits;
  /** Allowed growth of the totals (and of every site budget's figures) against a baseline. */
  maxIncrease?: Increase;
  /** Metrics that `maxIncrease` applies to (default: total, peak and end bytes, those the profiles have). */
  increaseMetrics?: MetricKey[];
  sites?: SiteBudget[];
  /** Limits on each function, file or package of the profile (`GroupBudget`). */
  groups?: GroupBudget;
}

/**
 * Limits that every group of frames must keep within (every function, file or package,
 * as `report --by` groups them), by its self or inclusive figures; the increase of each
 * group is against the same group of the baseline (0 where the baseline lacks it).
 */
export interface GroupBudget {
  by: GroupBy;
  /** `self` (default): allocated at a frame of the group; `inclusive`: with it anywhere in the stack. */
  figures?: 'self' | 'inclusive';
  max?: Limits;
  maxIncrease?: Increase;
}

export type RuleStatus = 'pass' | 'fail' | 'unavailable';

export interface RuleResult {
  /** What is checked, e.g. `total bytes`, `end bytes of function parse*`. */
  rule: string;
  kind: 'max' | 'increase';
  metric: MetricKey;
  /** The site budget the rule comes from; absent for the profile's totals. */
  site?: SiteBudget;
  /** The largest value allowed. */
  limit: number;
  /** The profile's value; null when the profile has no such figures. */
  actual: number | null;
  /** The baseline's value, for increase rules. */
  baseline?: number | null;
  increase?: Increase;
  /** Program points the site budget matched in the profile. */
  matchedSites?: number;
  /** For a group budget's rule about one group: its name (e.g. `parse (src/parser.js)`). */
  group?: string;
  status: RuleStatus;
  message: string;
}

export interface CheckResult {
  /** `error` when a rule could not be checked (the profile lacks the figures), else fail when any rule failed. */
  status: 'pass' | 'fail' | 'error';
  rules: RuleResult[];
  /** E.g. a site budget that matched no program point, an increase limit without a baseline. */
  warnings: string[];
  profile: { cmd: string; mode: string };
  baseline?: { cmd: string; mode: string };
}

export class BudgetError extends Error {
  override name = 'BudgetError';
}

const DEFAULT_INCREASE: readonly MetricKey[] = ['totalBytes', 'peakBytes', 'endBytes'];

/** Checks a profile against budgets, and against a baseline profile for the increase limits. */
export function checkProfile(profile: Profile, budgets: Budgets, baseline?: Profile): CheckResult {
  const rules: RuleResult[] = [];
  const warnings: string[] = [];
  const have = new Set(availableMetrics(profile).map((m) => m.key));
  const haveBase = baseline && new Set(availableMetrics(baseline).map((m) => m.key));
  const all = () => true;
  const sum = (p: Profile, key: MetricKey, test: (pp: ProgramPoint) => boolean) => {
    let t = 0;
    let n = 0;
    for (const pp of p.programPoints) {
      if (!test(pp)) continue;
      t += pp[key] ?? 0;
      n++;
    }
    return { total: t, sites: n };
  };

  const maxRules = (
    limits: Limits,
    scope: string,
    test: (p: Profile) => (pp: ProgramPoint) => boolean,
    site?: SiteBudget,
  ) => {
    for (const m of METRICS) {
      const limit = limits[m.key];
      if (limit === undefined) continue;
      checkLimit(m, limit);
      const rule = `${m.label.toLowerCase()}${scope}`;
      if (!have.has(m.key)) {
        rules.push(unavailable(rule, 'max', m, limit, 'the profile has no such figures', site));
        continue;
      }
      const { total, sites } = sum(profile, m.key, test(profile));
      const pass = total <= limit;
      rules.push({
        rule,
        kind: 'max',
        metric: m.key,
        ...(site ? { site, matchedSites: sites } : {}),
        limit,
        actual: total,
        status: pass ? 'pass' : 'fail',
        message: `${fmt(m, total)} ${pass ? '≤' : '>'} ${fmt(m, limit)}`,
      });
    }
  };

  const increaseRules = (
    increase: Increase,
    scope: string,
    test: (p: Profile) => (pp: ProgramPoint) => boolean,
    site?: SiteBudget,
  ) => {
    checkIncrease(increase);
    const keys = budgets.increaseMetrics ?? DEFAULT_INCREASE;
    for (const key of keys) {
      const m = METRICS.find((x) => x.key === key);
      if (!m) throw new BudgetError(`unknown metric "${key}" in increaseMetrics`);
      const explicit = budgets.increaseMetrics !== undefined;
      const rule = `${m.label.toLowerCase()}${scope} vs baseline`;
      if (!baseline || !haveBase) continue;
      if (!have.has(key) || !haveBase.has(key)) {
        // The default list takes what both profiles have; a metric asked for by name must be there.
        if (explicit) {
          const which = !have.has(key) ? 'the profile' : 'the baseline';
          rules.push(unavailable(rule, 'increase', m, 0, `${which} has no such figures`, site));
        }
        continue;
      }
      const base = sum(baseline, key, test(baseline)).total;
      const { total, sites } = sum(profile, key, test(profile));
      const limit = allowed(base, increase);
      const pass = total <= limit;
      const growth = base === 0 ? '' : ` (${signedPercent(total / base - 1)})`;
      rules.push({
        rule,
        kind: 'increase',
        metric: key,
        ...(site ? { site, matchedSites: sites } : {}),
        limit,
        actual: total,
        baseline: base,
        increase,
        status: pass ? 'pass' : 'fail',
        message: `${fmt(m, total)}${growth} ${pass ? '≤' : '>'} ${fmt(m, limit)} (baseline ${fmt(m, base)} + ${increaseText(increase, m)})`,
      });
    }
  };

  if (budgets.max) maxRules(budgets.max, '', () => all);
  if (budgets.maxIncrease) increaseRules(budgets.maxIncrease, '', () => all);
  for (const site of budgets.sites ?? []) {
    if (site.function === undefined && site.file === undefined) {
      throw new BudgetError('a site budget needs a "function" or a "file" pattern');
    }
    const test = siteTest(site);
    const scope = ` of ${describeSite(site)}`;
    if (site.max) maxRules(site.max, scope, test, site);
    if (site.maxIncrease) increaseRules(site.maxIncrease, scope, test, site);
    if (!site.max && !site.maxIncrease) {
      warnings.push(`the budget for ${describeSite(site)} sets no limit`);
    }
    const matched = profile.programPoints.filter(test(profile)).length;
    if (matched === 0) {
      warnings.push(`${describeSite(site)} matched no program point of the profile`);
    }
  }
  if (budgets.groups) rules.push(...groupRules(profile, budgets.groups, have, baseline, haveBase));
  const wantsIncrease =
    budgets.maxIncrease || budgets.sites?.some((s) => s.maxIncrease) || budgets.groups?.maxIncrease;
  if (wantsIncrease && !baseline) {
    warnings.push('increase limits need a baseline profile: not checked');
  }
  if (baseline && !wantsIncrease) {
    warnings.push('a baseline was given but no increase limit: nothing compared with it');
  }
  if (baseline && baseline.mode !== profile.mode) {
    warnings.push(
      `the baseline is mode "${baseline.mode}", the profile "${profile.mode}": they measure different things`,
    );
  }
  const status = rules.some((r) => r.status === 'unavailable')
    ? 'error'
    : rules.some((r) => r.status === 'fail')
      ? 'fail'
      : 'pass';
  return {
    status,
    rules,
    warnings,
    profile: { cmd: profile.cmd, mode: profile.mode },
    ...(baseline ? { baseline: { cmd: baseline.cmd, mode: baseline.mode } } : {}),
  };
}

/**
 * The rules of a group budget: a failing rule for each group over a limit, or one
 * passing rule per limit naming the group that comes closest. Groups are many (a large
 * profile has hundreds of thousands of functions): only failures are listed one by one.
 */
function groupRules(
  profile: Profile,
  budget: GroupBudget,
  have: ReadonlySet<MetricKey>,
  baseline: Profile | undefined,
  haveBase: ReadonlySet<MetricKey> | undefined,
): RuleResult[] {
  const figures = budget.figures ?? 'self';
  const out: RuleResult[] = [];
  const kind = `${budget.by} (${figures})`;
  const groupsOf = (p: Profile) => {
    const g = groupProgramPoints(p, budget.by);
    return { keys: g.keys, values: g[figures] };
  };
  const mine = groupsOf(profile);
  const limitsFor = (limits: Limits | undefined) =>
    METRICS.filter((m) => limits?.[m.key] !== undefined && m.additive);
  for (const m of METRICS) {
    if (budget.max?.[m.key] !== undefined && !m.additive) {
      throw new BudgetError(
        `${m.name} is a per-site maximum and does not add up over a ${budget.by}`,
      );
    }
  }
  for (const m of limitsFor(budget.max)) {
    const limit = budget.max![m.key]!;
    checkLimit(m, limit);
    const rule = `${m.label.toLowerCase()} of each ${kind}`;
    if (!have.has(m.key)) {
      out.push(unavailable(rule, 'max', m, limit, 'the profile has no such figures'));
      continue;
    }
    const key = m.key as AdditiveMetricKey;
    let largest = -1;
    let failed = 0;
    mine.keys.forEach((name, g) => {
      const v = mine.values[g]![key] ?? 0;
      if (largest < 0 || v > (mine.values[largest]![key] ?? 0)) largest = g;
      if (v <= limit) return;
      failed++;
      out.push({
        rule: `${m.label.toLowerCase()} of ${budget.by} ${name} (${figures})`,
        kind: 'max',
        metric: m.key,
        group: name,
        limit,
        actual: v,
        status: 'fail',
        message: `${fmt(m, v)} > ${fmt(m, limit)}`,
      });
    });
    if (failed === 0) {
      const v = largest < 0 ? 0 : (mine.values[largest]![key] ?? 0);
      out.push({
        rule,
        kind: 'max',
        metric: m.key,
        ...(largest >= 0 ? { group: mine.keys[largest]! } : {}),
        limit,
        actual: v,
        status: 'pass',
        message: `${fmt(m, v)} ≤ ${fmt(m, limit)}${largest >= 0 ? ` (the largest: ${mine.keys[largest]})` : ''}`,
      });
    }
  }
  const increase = budget.maxIncrease;
  if (!increase || !baseline || !haveBase) return out;
  checkIncrease(increase);
  const theirs = groupsOf(baseline);
  const baseIndex = new Map(theirs.keys.map((k, g) => [k, g]));
  for (const key of DEFAULT_INCREASE) {
    if (!have.has(key) || !haveBase.has(key)) continue;
    const m = METRICS.find((x) => x.key === key)!;
    const k = key as AdditiveMetricKey;
    let closest = -1;
    let closestRoom = Number.POSITIVE_INFINITY;
    let closestLimit = 0;
    let closestValue = 0;
    let closestBase = 0;
    let failed = 0;
    mine.keys.forEach((name, g) => {
      const v = mine.values[g]![k] ?? 0;
      const bg = baseIndex.get(name);
      const base = bg === undefined ? 0 : (theirs.values[bg]![k] ?? 0);
      const limit = allowed(base, increase);
      if (v <= limit) {
        if (limit - v < closestRoom) {
          closestRoom = limit - v;
          closest = g;
          closestLimit = limit;
          closestValue = v;
          closestBase = base;
        }
        return;
      }
      failed++;
      out.push({
        rule: `${m.label.toLowerCase()} of ${budget.by} ${name} (${figures}) vs baseline`,
        kind: 'increase',
        metric: key,
        group: name,
        limit,
        actual: v,
        baseline: base,
        increase,
        status: 'fail',
        message: `${fmt(m, v)} > ${fmt(m, limit)} (baseline ${fmt(m, base)} + ${increaseText(increase, m)})`,
      });
    });
    if (failed === 0) {
      out.push({
        rule: `${m.label.toLowerCase()} of each ${kind} vs baseline`,
        kind: 'increase',
        metric: key,
        ...(closest >= 0 ? { group: mine.keys[closest]! } : {}),
        limit: closestLimit,
        actual: closestValue,
        baseline: closestBase,
        increase,
        status: 'pass',
        message: `every ${budget.by} within the baseline + ${increaseText(increase, m)}${closest >= 0 ? ` (the closest: ${mine.keys[closest]}, ${fmt(m, closestRoom)} below its limit)` : ''}`,
      });
    }
  }
  return out;
}

/** The largest value allowed for a baseline value and an allowed increase (whole units). */
export function allowed(base: number, increase: Increase): number {
  if ('amount' in increase) return base + increase.amount;
  // Whole bytes and blocks: the largest whole number within base × (1 + p/100),
  // with room for the binary fraction error of e.g. 1000 × 1.05.
  const exact = (base * (100 + increase.percent)) / 100;
  return Math.floor(exact + 1e-9 * Math.max(1, exact));
}

function checkLimit(m: MetricInfo, limit: number) {
  if (!Number.isFinite(limit) || limit < 0) {
    throw new BudgetError(`the limit on ${m.name} must be a number ≥ 0, not ${limit}`);
  }
}

function checkIncrease(increase: Increase) {
  const v = 'percent' in increase ? increase.percent : increase.amount;
  if (!Number.isFinite(v) || v < 0) {
    throw new BudgetError(`an allowed increase must be ≥ 0, not ${v}`);
  }
}

function unavailable(
  rule: string,
  kind: RuleResult['kind'],
  m: MetricInfo,
  limit: number,
  why: string,
  site?: SiteBudget,
): RuleResult {
  return {
    rule,
    kind,
    metric: m.key,
    ...(site ? { site } : {}),
    limit,
    actual: null,
    status: 'unavailable',
    message: `cannot check: ${why} (${m.name})`,
  };
}

/** `function parse* in file src/**`, as the rules name a site budget. */
export function describeSite(site: SiteBudget): string {
  const parts: string[] = [];
  if (site.function !== undefined) parts.push(`function ${site.function}`);
  if (site.file !== undefined) parts.push(`${parts.length ? 'in ' : ''}file ${site.file}`);
  if (site.match === 'site') parts.push('(allocating frame)');
  return parts.join(' ');
}

function siteTest(site: SiteBudget): (p: Profile) => (pp: ProgramPoint) => boolean {
  const fn = site.function === undefined ? undefined : compilePattern(site.function, false);
  const file = site.file === undefined ? undefined : compilePattern(site.file, true);
  return (p: Profile) => {
    const frameMatches = new Map<number, boolean>();
    const matches = (i: number) => {
      let hit = frameMatches.get(i);
      if (hit === undefined) {
        const parts = parseFrame(p.frames[i] ?? '');
        hit = (!fn || fn(parts.name)) && (!file || (parts.file !== undefined && file(parts.file)));
        frameMatches.set(i, hit);
      }
      return hit;
    };
    return (pp) =>
      site.match === 'site' ? pp.stack.length > 0 && matches(pp.stack[0]!) : pp.stack.some(matches);
  };
}

/**
 * Compiles a pattern: `/regex/flags` is a regular expression searched in the text; any
 * other text is a glob matched against all of it (`*` any run of characters but `/`,
 * `**` any run, `?` one character but `/`, `{a,b}` either). For files, a glob without
 * a slash or `**` is matched against the base name.
 */
export function compilePattern(pattern: string, isPath: boolean): (text: string) => boolean {
  const re = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  if (re) {
    let rx: RegExp;
    try {
      rx = new RegExp(re[1]!, re[2]);
    } catch (e) {
      throw new BudgetError(`bad regular expression ${pattern}: ${(e as Error).message}`);
    }
    return (t) => rx.test(t);
  }
  const rx = new RegExp(`^${globToRegex(pattern)}$`);
  if (isPath && !pattern.includes('/') && !pattern.includes('**')) {
    return (t) => rx.test(t.slice(t.lastIndexOf('/') + 1));
  }
  return (t) => rx.test(t);
}

function globToRegex(glob: string): string {
  let out = '';
  let inBraces = false;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` also matches no directory at all.
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i++;
        }
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '{') {
      inBraces = true;
      out += '(?:';
    } else if (c === '}' && inBraces) {
      inBraces = false;
      out += ')';
    } else if (c === ',' && inBraces) out += '|';
    else out += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  if (inBraces) throw new BudgetError(`unclosed "{" in pattern ${glob}`);
  return out;
}

function fmt(m: MetricInfo, n: number): string {
  const s = Math.round(n).toLocaleString('en-US');
  return m.unit === 'bytes' ? `${s} bytes` : m.unit === 'blocks' ? `${s} blocks` : s;
}

function signedPercent(x: number): string {
  const p = Math.round(x * 1000) / 10;
  return `${p >= 0 ? '+' : ''}${p}%`;
}

function increaseText(increase: Increase, m: MetricInfo): string {
  return 'percent' in increase ? `${increase.percent}%` : fmt(m, increase.amount);
}

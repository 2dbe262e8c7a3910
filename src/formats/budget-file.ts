/**
 * The budget file (`heapscope.budget.json`) read by `heapscope check --budget-file`:
 *
 * ```json
 * {
 *   "max": { "total": "50MB", "end": "1MB", "peak-bytes": "20MiB", "total-blocks": 100000 },
 *   "maxIncrease": "5%",
 *   "increaseMetrics": ["total-bytes", "end-bytes"],
 *   "sites": [
 *     { "function": "parse*", "max": { "total": "10MB" }, "maxIncrease": "10%" },
 *     { "file": "src/cache/**", "max": { "end": "100KB" } },
 *     { "function": "/^render(Row|Cell)$/", "file": "ui.js", "match": "site", "max": { "total-blocks": 5000 } }
 *   ]
 * }
 * ```
 *
 * Metric names are those of `--sort` (`total-bytes`, `peak-blocks`, ...), with `total`,
 * `peak` and `end` short for their bytes. Sizes are numbers or strings such as `50MB`
 * (decimal) or `1.5MiB` (binary); an increase is a percentage (`5%`) or an amount (`1MB`).
 */

import type { Budgets, Increase, Limits, SiteBudget } from '../model/budget.js';
import { parseBytes } from '../model/byte-size.js';
import { findMetric, type MetricKey } from '../model/metrics.js';
import { jsonSyntaxMessage } from './json-text.js';

export class BudgetFileError extends Error {
  override name = 'BudgetFileError';
}

const SHORT: Record<string, string> = {
  total: 'total-bytes',
  peak: 'peak-bytes',
  end: 'end-bytes',
};

/** Parses an allowed increase: `5%`, `0.5%`, `1MB`, `4096`. */
export function parseIncrease(text: string | number): Increase {
  if (typeof text === 'number') return { amount: checkedNumber(text, 'an increase') };
  const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (pct) return { percent: Number(pct[1]) };
  try {
    return { amount: parseBytes(text) };
  } catch {
    throw new BudgetFileError(`not an increase: "${text}" (try 5%, 1MB or 4096)`);
  }
}

/** Parses a size: a number, or a string such as `50MB`. */
export function parseSize(value: unknown, where: string): number {
  if (typeof value === 'number') return checkedNumber(value, where);
  if (typeof value === 'string') {
    try {
      return parseBytes(value);
    } catch (e) {
      throw new BudgetFileError(`${where}: ${(e as Error).message}`);
    }
  }
  throw new BudgetFileError(`${where}: a size must be a number or a string like "50MB"`);
}

function checkedNumber(n: number, where: string): number {
  if (!Number.isFinite(n) || n < 0) throw new BudgetFileError(`${where}: ${n} is not a size ≥ 0`);
  return n;
}

/** A metric name of the budget file (or its short form) to its key. */
export function budgetMetric(name: string, where: string): MetricKey {
  const m = findMetric(SHORT[name.toLowerCase()] ?? name);
  if (!m) {
    throw new BudgetFileError(
      `${where}: unknown metric "${name}" (try total, peak, end, total-blocks, end-blocks, ...)`,
    );
  }
  return m.key;
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BudgetFileError(`${where} must be an object`);
  }
  return value as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], where: string) {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new BudgetFileError(`${where}: unknown field "${k}" (fields: ${allowed.join(', ')})`);
    }
  }
}

function limits(value: unknown, where: string): Limits {
  const o = object(value, where);
  const out: Limits = {};
  for (const [name, v] of Object.entries(o)) {
    out[budgetMetric(name, where)] = parseSize(v, `${where}.${name}`);
  }
  return out;
}

function increase(value: unknown, where: string): Increase {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new BudgetFileError(`${where} must be a string like "5%" or "1MB"`);
  }
  try {
    return parseIncrease(value);
  } catch (e) {
    throw new BudgetFileError(`${where}: ${(e as Error).message}`);
  }
}

/** Reads a budget file's text (or parsed JSON) into Budgets; throws BudgetFileError. */
export function parseBudgetFile(input: string | unknown): Budgets {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input.replace(/^\uFEFF/, ''));
    } catch (e) {
      throw new BudgetFileError(jsonSyntaxMessage(input, e));
    }
  }
  const o = object(data, 'the budget file');
  onlyKeys(o, ['$schema', 'max', 'maxIncrease', 'increaseMetrics', 'sites'], 'the budget file');
  const out: Budgets = {};
  if (o.max !== undefined) out.max = limits(o.max, 'max');
  if (o.maxIncrease !== undefined) out.maxIncrease = increase(o.maxIncrease, 'maxIncrease');
  if (o.increaseMetrics !== undefined) {
    if (!Array.isArray(o.increaseMetrics)) {
      throw new BudgetFileError('increaseMetrics must be a list of metric names');
    }
    out.increaseMetrics = o.increaseMetrics.map((n, i) =>
      budgetMetric(String(n), `increaseMetrics[${i}]`),
    );
  }
  if (o.sites !== undefined) {
    if (!Array.isArray(o.sites)) throw new BudgetFileError('sites must be a list');
    out.sites = o.sites.map((s, i) => site(s, `sites[${i}]`));
  }
  return out;
}

function site(value: unknown, where: string): SiteBudget {
  const o = object(value, where);
  onlyKeys(o, ['function', 'file', 'match', 'max', 'maxIncrease'], where);
  const out: SiteBudget = {};
  for (const k of ['function', 'file'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'string' || o[k] === '') {
      throw new BudgetFileError(`${where}.${k} must be a pattern (a glob or /regex/)`);
    }
    out[k] = o[k] as string;
  }
  if (out.function === undefined && out.file === undefined) {
    throw new BudgetFileError(`${where} needs a "function" or a "file" pattern`);
  }
  if (o.match !== undefined) {
    if (o.match !== 'stack' && o.match !== 'site') {
      throw new BudgetFileError(`${where}.match must be "stack" or "site"`);
    }
    out.match = o.match;
  }
  if (o.max !== undefined) out.max = limits(o.max, `${where}.max`);
  if (o.maxIncrease !== undefined)
    out.maxIncrease = increase(o.maxIncrease, `${where}.maxIncrease`);
  return out;
}

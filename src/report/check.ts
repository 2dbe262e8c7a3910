/** Text and markdown renderings of a budget check (`model/budget.ts`). No I/O. */

import pc from 'picocolors';
import type { CheckResult, RuleResult } from '../model/budget.js';
import { METRICS } from '../model/metrics.js';
import { printableData } from '../util/printable.js';
import { mdCode, mdText } from './diff.js';
import { bytes, count } from './units.js';

function amount(r: RuleResult, n: number): string {
  const m = METRICS.find((x) => x.key === r.metric);
  if (m?.unit === 'bytes') return `${bytes(n)} (${count(n)} bytes)`;
  if (m?.unit === 'blocks') return `${count(n)} blocks`;
  return count(n);
}

const VERDICT: Record<CheckResult['status'], string> = {
  pass: 'within budget',
  fail: 'over budget',
  error: 'could not check every rule',
};

function counts(result: CheckResult): string {
  const n = (s: RuleResult['status']) => result.rules.filter((r) => r.status === s).length;
  const parts = [`${n('pass')} passed`, `${n('fail')} failed`];
  if (n('unavailable')) parts.push(`${n('unavailable')} could not be checked`);
  return parts.join(', ');
}

function limitText(r: RuleResult): string {
  if (r.status === 'unavailable') return '';
  return amount(r, r.limit);
}

/** Renders a check for a terminal. */
export function renderCheckText(result: CheckResult, options: { color?: boolean } = {}): string {
  // Every string of the profile is printed escaped.
  result = printableData(result);
  const c = pc.createColors(options.color ?? false);
  const out: string[] = [];
  const verdict =
    result.status === 'pass'
      ? c.green(VERDICT.pass)
      : result.status === 'fail'
        ? c.red(VERDICT.fail)
        : c.yellow(VERDICT.error);
  out.push(`${c.bold('heapscope check')}: ${result.profile.cmd} — ${c.bold(verdict)}`);
  if (result.rules.length === 0) out.push('  no rules to check');
  for (const r of result.rules) {
    const mark =
      r.status === 'pass'
        ? c.green('PASS')
        : r.status === 'fail'
          ? c.red('FAIL')
          : c.yellow('N/A ');
    const n = r.matchedSites;
    const sites = n !== undefined ? c.dim(` [${n} program ${n === 1 ? 'point' : 'points'}]`) : '';
    out.push(`  ${mark}  ${r.rule}: ${r.message}${sites}`);
  }
  out.push(`  ${counts(result)}`);
  for (const w of result.warnings) out.push(c.yellow(`warning: ${w}`));
  return `${out.join('\n')}\n`;
}

/** Renders a check as GitHub-flavoured markdown (for job summaries). */
export function renderCheckMarkdown(result: CheckResult): string {
  // Every string of the profile is printed escaped.
  result = printableData(result);
  const icon = result.status === 'pass' ? '✅' : result.status === 'fail' ? '❌' : '⚠️';
  const out: string[] = [];
  out.push(`### ${icon} heapscope check: ${VERDICT[result.status]}`, '');
  out.push(
    `Profile: ${mdCode(result.profile.cmd)}${result.baseline ? `, baseline: ${mdCode(result.baseline.cmd)}` : ''}`,
  );
  out.push('');
  if (result.rules.length > 0) {
    out.push('| | rule | limit | actual | |', '|---|---|---:|---:|---|');
    for (const r of result.rules) {
      const mark = r.status === 'pass' ? '✅' : r.status === 'fail' ? '❌' : '⚠️';
      const actual = r.actual === null ? '—' : amount(r, r.actual);
      const baseline =
        r.baseline !== undefined && r.baseline !== null ? `baseline ${amount(r, r.baseline)}` : '';
      const note = r.status === 'unavailable' ? r.message : baseline;
      out.push(`| ${mark} | ${mdText(r.rule)} | ${limitText(r)} | ${actual} | ${mdText(note)} |`);
    }
    out.push('');
  }
  out.push(`${counts(result)}.`);
  if (result.warnings.length) {
    out.push('', '**Warnings**', '');
    for (const w of result.warnings) out.push(`- ${mdText(w)}`);
  }
  return `${out.join('\n')}\n`;
}

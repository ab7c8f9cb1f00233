/**
 * renderCompare on reports of the committed real captures: every scenario column is shown, the
 * rows keep their labels, and columns that do not fit the width go to further tables instead of
 * lines longer than the terminal.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../analyzer/analyze.js';
import { renderCompare, type CompareColumn } from '../../../analyzer/report/compare.js';
import type { ContractReport } from '../../../analyzer/report/contract.js';
import { toContractJson } from '../../../analyzer/report/json.js';

const FIX = path.resolve('fixtures/analyze');
const CASES = ['dnat-only', 'instance-cluster', 'local-policy', 'ppv2-proxy', 'gateway-xff'];
const columns: CompareColumn[] = [];

beforeAll(async () => {
  for (const c of CASES) {
    const report = toContractJson(await analyze({ dir: path.join(FIX, c) })) as unknown as ContractReport;
    columns.push({ scenario: c, report, lessonOk: c !== 'dnat-only' });
  }
});

const lines = (text: string) => text.split('\n');
const widest = (text: string) => Math.max(...lines(text).map((l) => l.length));

describe('renderCompare', () => {
  it('puts every scenario side by side when the width allows', () => {
    const text = renderCompare(columns, { width: 10_000 });
    const header = lines(text).find((l) => l.includes('instance-cluster'))!;
    for (const c of CASES) expect(header).toContain(c);
    expect(lines(text).filter((l) => l.includes('client IP at backend'))).toHaveLength(1);
    expect(text).toMatch(/lesson shown.*NO.*yes/);
  });

  it('splits into tables that fit a narrow terminal, each with the row labels, losing no scenario', () => {
    const wide = renderCompare(columns, { width: 10_000 });
    const text = renderCompare(columns, { width: 120 });
    expect(widest(wide)).toBeGreaterThan(120);
    expect(widest(text)).toBeLessThanOrEqual(120);
    const tables = text.split('\n\n');
    expect(tables.length).toBeGreaterThan(1);
    for (const t of tables) {
      expect(t).toContain('client IP at backend');
      expect(t).toContain('hop 1');
    }
    for (const c of CASES) expect(tables.filter((t) => lines(t)[1].includes(c))).toHaveLength(1);
  });

  it('shows the verdicts each capture supports', () => {
    const text = renderCompare(columns, { width: 10_000 });
    const row = lines(text).find((l) => l.includes('client IP at backend'))!;
    expect(row).toMatch(/ppv2 \d+\/\d+/);
    expect(row).toMatch(/xff \d+\/\d+/);
    expect(row).toMatch(/lost \d+\/\d+/);
  });
});

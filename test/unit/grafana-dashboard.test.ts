/**
 * The example Grafana dashboard (docs/grafana/omnisync-dashboard.json) queries only metrics the
 * worker serves: a renamed metric fails here rather than as an empty panel in production.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../observability/metrics';
import { SDK_METRICS_UP } from '../../observability/metrics-server';

const DASHBOARD = join(__dirname, '../../docs/grafana/omnisync-dashboard.json');

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

function panelsOf(dashboard: { panels: Panel[] }): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** What the worker's /metrics serves: the registry's families (histograms as their series) and the endpoint's own gauge. */
async function servedNames(): Promise<Set<string>> {
  const families = await createMetrics().registry.getMetricsAsJSON();
  const names = new Set<string>([SDK_METRICS_UP]);
  for (const family of families) {
    names.add(family.name);
    if (String(family.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${family.name}${suffix}`);
  }
  return names;
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: Array<{ query: unknown }> } };
  const panels = panelsOf(dashboard);
  const expressions = [
    ...panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
    ...dashboard.templating.list.map((variable) => JSON.stringify(variable.query)),
  ];

  it('queries only metrics the worker serves', async () => {
    const served = await servedNames();
    const queried = new Set(expressions.flatMap((expr) => [...expr.matchAll(/\b(omnisync_[a-z0-9_]+|temporal_[a-z0-9_]+)\b/g)].map((match) => match[1]!)));
    expect(queried.size).toBeGreaterThan(5);
    expect([...queried].filter((name) => !served.has(name))).toEqual([]);
  });

  it('has panels for throughput, quarantine by reason, API budget use, rate-limit waits and schedule lag', () => {
    const titles = panels.filter((panel) => panel.type !== 'row').map((panel) => panel.title.toLowerCase());
    for (const wanted of ['per second', 'quarantined by reason', 'api budget used', 'rate-limit waits', 'schedule lag']) {
      expect(titles.some((title) => title.includes(wanted)), wanted).toBe(true);
    }
    for (const panel of panels.filter((panel) => panel.type !== 'row')) expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
  });
});

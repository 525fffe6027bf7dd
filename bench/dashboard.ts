import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchBrowser } from '../test/utils/chromium';
import { freePort } from '../test/utils/redis-process';
import { BenchEnvironment } from './bench-environment';
import { redisServerPid } from './proc-usage';
import { LoginRig, measureLogins } from './login';
import { ServerProcess } from './server-process';

/**
 * `npm run bench:dashboard`: docs/dashboard.png, the panels of deploy/grafana/passwordless.json with their queries
 * evaluated by a real Prometheus that scraped the API, the relay and an email worker during a few minutes of complete
 * logins (plus a trickle of refused starts and wrong codes, so that those panels have data). Grafana itself is not
 * installable on the build machine (Debian has no package), so the panels are drawn here as plain SVG lines from
 * Prometheus's range queries: same panels, titles, layout and queries. Needs Debian's `prometheus` and `chromium`.
 */
const ROOT = join(__dirname, '..', '..');
const PROMETHEUS = '/usr/bin/prometheus';
const LOAD_SECONDS = Number(process.env.DASHBOARD_SECONDS ?? 180);
const STEP_SECONDS = 5;
const PALETTE = ['#73bf69', '#f2cc0c', '#5794f2', '#ff780a', '#b877d9', '#f2495c', '#37872d', '#8ab8ff'];

interface Panel {
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Array<{ expr: string; legendFormat?: string }>;
}
interface Series {
  name: string;
  points: Array<[number, number]>;
}

async function main(): Promise<void> {
  for (const binary of [PROMETHEUS, '/usr/bin/chromium'])
    if (!existsSync(binary)) throw new Error(`${binary} is missing: apt-get install prometheus chromium`);
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/passwordless.json'), 'utf8')) as {
    title: string;
    panels: Panel[];
  };
  const env = await BenchEnvironment.create(10);
  const ports = { api: await freePort(), relay: await freePort(), worker: await freePort(), prom: await freePort() };
  const dataDir = mkdtempSync(join(tmpdir(), 'pwl-prometheus-'));
  writeFileSync(
    join(dataDir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 2s }',
      'scrape_configs:',
      '  - job_name: passwordless',
      '    static_configs:',
      ...Object.entries(ports)
        .filter(([role]) => role !== 'prom')
        .map(([role, port]) => `      - { targets: ['127.0.0.1:${port}'], labels: { role: ${role} } }`),
    ].join('\n'),
  );
  const prometheus = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dataDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dataDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${ports.prom}`,
    ],
    { stdio: 'ignore' },
  );
  const service = await ServerProcess.start({
    name: 'service',
    script: 'src/main.js',
    env: env.env,
    // Real per-identifier limits on the API, so that repeated starts for one address get 429s by that rule.
    serverEnv: { METRICS_PORT: String(ports.api), RATE_LIMIT_START_PER_IDENTIFIER: '3' },
    companionScript: 'src/relay.js',
    companionEnv: { METRICS_PORT: String(ports.relay) },
  });
  const rig = await LoginRig.start(env, join(__dirname, '..'), { METRICS_PORT: String(ports.worker) });
  try {
    const startedAt = Date.now() / 1000;
    const trickle = refusalsAndFailures(env, service.baseUrl, LOAD_SECONDS);
    await measureLogins(env, service, rig, await redisServerPid(env.env.REDIS_URL), {
      connections: 8,
      seconds: LOAD_SECONDS,
      warmupSeconds: 0,
    });
    await trickle;
    await sleep(10_000); // the last scrapes
    const html = await render(dashboard, `http://127.0.0.1:${ports.prom}`, startedAt, Date.now() / 1000);
    await screenshot(html, join(ROOT, 'docs/dashboard.png'));
    console.log('wrote docs/dashboard.png');
  } finally {
    await rig.stop();
    await service.stop();
    prometheus.kill('SIGTERM');
    await env.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Starts past the per-identifier limit (429s by rule) and wrong codes (OTP failures), a few per second. */
async function refusalsAndFailures(env: BenchEnvironment, baseUrl: string, seconds: number): Promise<void> {
  const { clientId, secret } = env.secretClient;
  const post = (path: string, body: object) =>
    fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
      .then((response) => response.arrayBuffer())
      .catch(() => undefined);
  const until = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < until; i++) {
    const email = `dashboard.${i % 20}@bench.example.com`;
    await post('/passwordless/start', {
      client_id: clientId,
      client_secret: secret,
      connection: 'email',
      email,
      send: 'code',
    });
    await post('/oauth/token', {
      grant_type: 'http://auth0.com/oauth/grant-type/passwordless/otp',
      client_id: clientId,
      client_secret: secret,
      username: email,
      otp: '000000',
      realm: 'email',
    });
    await sleep(250);
  }
}

async function rangeQuery(
  prometheus: string,
  { expr, legendFormat }: Panel['targets'][number],
  start: number,
  end: number,
): Promise<Series[]> {
  const query = new URLSearchParams({
    query: expr,
    start: String(start),
    end: String(end),
    step: String(STEP_SECONDS),
  });
  const url = `${prometheus}/api/v1/query_range?${query.toString()}`;
  const body = (await (await fetch(url)).json()) as {
    data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
  };
  return body.data.result.map(({ metric, values }) => ({
    // Grafana's legend: {{label}} replaced by the series' label values.
    name:
      legendFormat?.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, label: string) => metric[label] ?? '') ??
      JSON.stringify(metric),
    points: values.map(([t, v]) => [t, Number(v)] as [number, number]).filter(([, v]) => Number.isFinite(v)),
  }));
}

/** One SVG line chart per panel, placed on Grafana's 24-column grid. */
async function render(dashboard: { title: string; panels: Panel[] }, prometheus: string, start: number, end: number) {
  const unitW = 66;
  const unitH = 34;
  const panels: string[] = [];
  for (const panel of dashboard.panels) {
    const series = (await Promise.all(panel.targets.map((t) => rangeQuery(prometheus, t, start, end)))).flat();
    const { x, y, w, h } = panel.gridPos;
    const width = w * unitW - 8;
    const height = h * unitH - 8;
    const plotH = height - 60 - 14 * Math.min(series.length, 4);
    const max = Math.max(1e-9, ...series.flatMap((s) => s.points.map(([, v]) => v)));
    const lines = series.map((s, i) => {
      const points = s.points
        .map(
          ([t, v]) =>
            `${(40 + ((t - start) / (end - start)) * (width - 50)).toFixed(1)},${(30 + plotH - (v / max) * plotH).toFixed(1)}`,
        )
        .join(' ');
      return `<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.5" points="${points}"/>`;
    });
    const legend = series
      .slice(0, 4)
      .map(
        (s, i) =>
          `<text x="10" y="${height - 14 * (Math.min(series.length, 4) - i) + 4}" fill="${PALETTE[i % PALETTE.length]}" font-size="11">${escape(s.name)}</text>`,
      );
    panels.push(
      `<svg style="position:absolute;left:${x * unitW + 4}px;top:${y * unitH + 44}px" width="${width}" height="${height}">` +
        `<rect width="100%" height="100%" rx="3" fill="#181b1f" stroke="#2c3235"/>` +
        `<text x="10" y="18" fill="#ccccdc" font-size="13" font-weight="600">${escape(panel.title)}</text>` +
        `<text x="6" y="34" fill="#8e8e8e" font-size="10">${formatNumber(max)}</text>` +
        `<text x="6" y="${30 + plotH}" fill="#8e8e8e" font-size="10">0</text>` +
        `<line x1="40" x2="${width - 10}" y1="${30 + plotH}" y2="${30 + plotH}" stroke="#2c3235"/>` +
        (series.length
          ? lines.join('')
          : `<text x="40" y="${30 + plotH / 2}" fill="#8e8e8e" font-size="12">no data</text>`) +
        legend.join('') +
        '</svg>',
    );
  }
  const bottom = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h)) * unitH + 50;
  const when = new Date(start * 1000).toISOString().slice(0, 16).replace('T', ' ');
  return (
    `<html><body style="margin:0;background:#111217;font-family:sans-serif;width:${24 * unitW + 8}px;height:${bottom}px">` +
    `<div style="color:#ccccdc;font-size:18px;padding:10px 12px">${escape(dashboard.title)}` +
    `<span style="color:#8e8e8e;font-size:12px"> · ${when} UTC + ${Math.round((end - start) / 60)} min of bench logins · ` +
    'deploy/grafana/passwordless.json, queries evaluated by Prometheus</span></div>' +
    panels.join('') +
    '</body></html>'
  );
}

async function screenshot(html: string, path: string): Promise<void> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 24 * 66 + 8, height: 800 } });
    await page.setContent(html);
    await page.screenshot({ path, fullPage: true });
  } finally {
    await browser.close();
  }
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const formatNumber = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toPrecision(2);

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

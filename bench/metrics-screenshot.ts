/**
 * A bounded load through the gateway, then a screenshot of the local
 * Prometheus graph page showing what it did (docs/img/prometheus-under-load.png).
 * Run by hand against a running suite:
 *
 *   ./dev.sh up -d
 *   node --import tsx bench/metrics-screenshot.ts [seconds=90] [requests-per-second=60] [out=docs/img/prometheus-under-load.png]
 *
 * Registers a few users (the register route has a small per-address bucket),
 * then sends two phases through the gateway's /api routes, each at a fixed
 * rate for a fixed time, so the number of requests is bounded:
 *
 * 1. a mix for `seconds` at `requests-per-second`: follows and unfollows among
 *    the users, lists, profiles and checks;
 * 2. a write burst for a third of that time at WRITE_BURST_RATE (under the
 *    gateway's per-address bucket of 150/s): each request flips one edge, so
 *    every one is a transition the persister has to write.
 *
 * It then waits until Prometheus has scraped
 * the load (every 5 s locally) and has Chromium (Debian's `chromium`, headless,
 * with a fresh profile) capture the classic graph page with the series that
 * matter: gRPC calls per method, gRPC p99 per method, HTTP requests per route,
 * consumer lag (beside the events persisted per second) and the persister's
 * p99 batch size. Prints a summary of the answers.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { prometheusUrl } from "../deploy/stack/prometheus.js";
import { HOST, ROOT, ports } from "../deploy/stack/settings.js";

const seconds = Number(process.argv[2] ?? 90);
const ratePerSecond = Number(process.argv[3] ?? 60);
const out = path.resolve(ROOT, process.argv[4] ?? "docs/img/prometheus-under-load.png");
const USERS = 8;
const WRITE_BURST_RATE = 140;
const MAX_IN_FLIGHT = 32;
const TICK_MS = 20;
const WAIT_FOR_SCRAPE_MS = 60_000;
/** How much of the quiet after the load the graphs show. */
const AFTER_LOAD_SECONDS = 20;
const GATEWAY = `http://${HOST}:${ports.gateway.port}`;
const PROMETHEUS = prometheusUrl();

if (!(seconds > 0 && seconds <= 600 && ratePerSecond > 0 && ratePerSecond <= 500)) {
  throw new Error("usage: metrics-screenshot.ts [seconds (1-600)] [requests-per-second (1-500)] [out.png]");
}

async function ok(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
}

interface User {
  userId: number;
  token: string;
}

async function register(name: string): Promise<User> {
  const res = await fetch(`${GATEWAY}/api/user/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: name, password: "metrics-screenshot-pw" }),
  });
  if (!res.ok) throw new Error(`register ${name}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as User;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** Which edges the load believes exist, so the write burst always flips one. */
const following = new Set<string>();

function write(me: User, other: User, op: "follow" | "unfollow"): Promise<Response> {
  if (op === "follow") following.add(`${me.userId}>${other.userId}`);
  else following.delete(`${me.userId}>${other.userId}`);
  return fetch(`${GATEWAY}/api/relation/${op}`, {
    method: "POST",
    headers: { authorization: `Bearer ${me.token}`, "content-type": "application/json" },
    body: JSON.stringify({ followUserId: other.userId }),
  });
}

/** One request, chosen at random (a write that flips an edge in the burst); resolves to its HTTP status (0 for a network error). */
function oneRequest(users: readonly User[], burst: boolean): Promise<number> {
  const me = pick(users);
  let other = pick(users);
  while (other.userId === me.userId) other = pick(users);
  const auth = { authorization: `Bearer ${me.token}` };
  const r = Math.random();
  let req: Promise<Response>;
  if (burst) req = write(me, other, following.has(`${me.userId}>${other.userId}`) ? "unfollow" : "follow");
  else if (r < 0.25) req = write(me, other, "follow");
  else if (r < 0.4) req = write(me, other, "unfollow");
  else if (r < 0.55) req = fetch(`${GATEWAY}/api/relation/following?userId=${other.userId}&limit=20`, { headers: auth });
  else if (r < 0.7) req = fetch(`${GATEWAY}/api/relation/fans?userId=${other.userId}&limit=20`, { headers: auth });
  else if (r < 0.85) req = fetch(`${GATEWAY}/api/user/${other.userId}`, { headers: auth });
  else req = fetch(`${GATEWAY}/api/relation/is_following?targetUserId=${other.userId}`, { headers: auth });
  return req.then(
    async (res) => {
      await res.arrayBuffer();
      return res.status;
    },
    () => 0,
  );
}

/** Sends `rate` requests a second for `duration` seconds, never more than MAX_IN_FLIGHT at once; counts the answers by status. */
async function drive(users: readonly User[], duration: number, rate: number, burst: boolean, statuses: Map<number, number>): Promise<void> {
  const total = Math.round(duration * rate);
  const started = Date.now();
  let sent = 0;
  let inFlight = 0;
  let lastReport = started;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
      while (sent < due && inFlight < MAX_IN_FLIGHT) {
        sent++;
        inFlight++;
        void oneRequest(users, burst).then((status) => {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          inFlight--;
          if (sent >= total && inFlight === 0) {
            clearInterval(timer);
            resolve();
          }
        });
      }
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        process.stdout.write(`  ${Math.round((Date.now() - started) / 1000)} s: ${sent} of ${total} sent\n`);
      }
      // Behind schedule (the suite is slower than the rate): the load still ends on time.
      if (Date.now() - started > duration * 1000 + 30_000 && inFlight === 0) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
}

async function query(expr: string): Promise<number> {
  const res = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
  return Number(body.data?.result?.[0]?.value[1] ?? Number.NaN);
}

/**
 * Waits until Prometheus has the load (gRPC calls and persisted events in its
 * last two minutes) and a scrape of every process from after its end, so the
 * graphs show it stop too.
 */
async function waitForScrapes(loadEnd: number): Promise<void> {
  const deadline = Date.now() + WAIT_FOR_SCRAPE_MS;
  const after = loadEnd / 1000 + AFTER_LOAD_SECONDS;
  for (;;) {
    const calls = await query("sum(increase(grpc_server_handled_total[2m]))");
    const persisted = await query("sum(increase(relation_persister_events_total[2m]))");
    const oldestLastScrape = await query('min(timestamp(up{job!="prometheus"}))');
    if (calls > 0 && persisted > 0 && oldestLastScrape > after) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Prometheus does not show the load after ${WAIT_FOR_SCRAPE_MS / 1000} s (gRPC calls ${calls}, persisted events ${persisted}); see ${PROMETHEUS}/targets`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The graphs, as the classic Prometheus UI takes them in its URL, over the last `rangeSeconds`. */
function graphUrl(rangeSeconds: number): string {
  const graphs = [
    "sum by (job, grpc_method) (rate(grpc_server_handled_total[30s]))",
    "histogram_quantile(0.99, sum by (le, job, grpc_method) (rate(grpc_server_handling_seconds_bucket[30s])))",
    "sum by (route, status_code) (rate(http_request_duration_seconds_count[30s]))",
    // Lag per group, with the persister's throughput beside it: a lag that stays
    // at 0 is a flat line the graph would otherwise not show.
    'sum by (consumergroup, topic) (max by (consumergroup, topic, partition) (kafka_consumergroup_lag)) or label_replace(sum(rate(relation_persister_events_total{outcome="persisted"}[30s])), "series", "events persisted/s", "", "")',
    "histogram_quantile(0.99, sum by (le) (rate(relation_persister_batch_size_bucket[30s])))",
  ];
  const params = new URLSearchParams();
  graphs.forEach((expr, i) => {
    params.set(`g${i}.expr`, expr);
    params.set(`g${i}.tab`, "0");
    params.set(`g${i}.stacked`, "0");
    params.set(`g${i}.range_input`, `${rangeSeconds}s`);
  });
  return `${PROMETHEUS}/classic/graph?${params.toString()}`;
}

function screenshot(url: string, file: string): void {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "rs-chromium-"));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const r = spawnSync(
      "chromium",
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--hide-scrollbars",
        "--window-size=1400,4250",
        // Virtual time runs until the page's queries have answered and the graphs are drawn.
        "--virtual-time-budget=20000",
        `--screenshot=${file}`,
        url,
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    if (r.status !== 0 || !fs.existsSync(file)) throw new Error(`chromium failed (${r.status}): ${r.stderr?.slice(-2000)}`);
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!(await ok(`http://${HOST}:${ports.gatewayAdmin.port}/readyz`))) {
    throw new Error(`the gateway at ${GATEWAY} is not ready: start the suite with ./dev.sh up -d`);
  }
  if (!(await ok(`${PROMETHEUS}/-/ready`))) throw new Error(`Prometheus at ${PROMETHEUS} is not ready (RS_PROMETHEUS=0?): start the suite with ./dev.sh up -d`);
  const run = Date.now().toString(36);
  const users: User[] = [];
  for (let i = 0; i < USERS; i++) users.push(await register(`load_${run}_${i}`));
  const burstSeconds = Math.max(10, Math.round(seconds / 3));
  process.stdout.write(
    `registered ${users.length} users; through ${GATEWAY}: a mix for ${seconds} s at ${ratePerSecond} requests/s, then writes for ${burstSeconds} s at ${WRITE_BURST_RATE}/s\n`,
  );
  const t0 = Date.now();
  const statuses = new Map<number, number>();
  await drive(users, seconds, ratePerSecond, false, statuses);
  process.stdout.write("write burst\n");
  await drive(users, burstSeconds, WRITE_BURST_RATE, true, statuses);
  const summary = [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s === 0 ? "network error" : s}: ${n}`)
    .join(", ");
  process.stdout.write(`answers by status: ${summary}\n`);
  await waitForScrapes(Date.now());
  // From a little before the load to now.
  const range = Math.ceil((Date.now() - t0) / 1000) + 30;
  screenshot(graphUrl(range), out);
  process.stdout.write(`screenshot: ${path.relative(ROOT, out)} (${graphUrl(range)})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/**
 * One against two processes per service, in one run (ADR 0017).
 *
 *   ./dev.sh bench scale-out [seconds=10] [concurrency=50]
 *   (or node --import tsx bench/scale-out.ts ... with the local servers up)
 *
 * For 1 and then 2 processes each of user, relation and gateway (started as
 * the local stack starts them, under private etcd names, Redis prefixes,
 * throwaway databases and free ports, by test/support/suite.ts; the gateways
 * of a run share one HTTP port, SO_REUSEPORT), it measures for the same time
 * and concurrency:
 *
 * - `IsFollowing` on the relation service with ghz: one ghz per relation
 *   process, the concurrency split between them (ghz dials one address; the
 *   services' own clients balance over etcd, which the gateway route shows);
 *   req/s summed, p50/p99 over every call;
 * - `GET /api/relation/is_following` through the gateway with autocannon
 *   (signed in: JWT, revocation check, two token buckets in Redis, then
 *   IsFollowing through the gateway's etcd-balanced client), `concurrency`
 *   connections, which the kernel spreads over the gateway processes.
 *
 * Prints a table, the ratio two/one for each call, and writes bench/results/scale-out.json. The
 * load generators share the machine's cores with the processes measured.
 */
import os from "node:os";
import autocannon from "autocannon";
import { startSuite, type Suite } from "../test/support/suite.js";
import { ghzSpread, type GhzResult } from "./lib/ghz.js";
import { writeResult } from "./lib/results.js";

const seconds = Number(process.argv[2] ?? 10);
const concurrency = Number(process.argv[3] ?? 50);
if (!Number.isInteger(seconds) || seconds < 1 || !Number.isInteger(concurrency) || concurrency < 2) {
  throw new Error("usage: bench/scale-out.ts [seconds >= 1] [concurrency >= 2]");
}
const WARMUP_SECONDS = 2;
const UNLIMITED = "100000000";
const FROM_USER = 1_000_000;
const TO_USER = 2_000_000;

interface Row extends GhzResult {
  processes: number;
}

/** The gateway route, signed in as a fresh user. */
async function signedIn(suite: Suite): Promise<string> {
  const res = await fetch(`${suite.gatewayUrl}/api/user/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: `bench${suite.tag}`, password: "correct-horse-battery" }),
  });
  if (!res.ok) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function gatewayRoute(suite: Suite, token: string, processes: number): Promise<Row> {
  const opts = {
    url: `${suite.gatewayUrl}/api/relation/is_following?targetUserId=${TO_USER}`,
    connections: concurrency,
    headers: { authorization: `Bearer ${token}` },
  };
  await autocannon({ ...opts, duration: WARMUP_SECONDS });
  const r = await autocannon({ ...opts, duration: seconds });
  return {
    name: "gateway GET /api/relation/is_following",
    processes,
    rps: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.non2xx,
  };
}

async function measure(processes: number): Promise<Row[]> {
  process.stderr.write(`starting user, relation and gateway × ${processes}\n`);
  const suite = await startSuite({
    label: "scalebench",
    apps: ["user", "relation", "gateway"],
    processes: { user: processes, relation: processes, gateway: processes },
    env: {
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      // the load comes from one address and one user: the limiters would measure themselves
      RATE_LIMIT_IP_CAPACITY: UNLIMITED,
      RATE_LIMIT_IP_REFILL_PER_SECOND: UNLIMITED,
      RATE_LIMIT_USER_CAPACITY: UNLIMITED,
      RATE_LIMIT_USER_REFILL_PER_SECOND: UNLIMITED,
    },
  });
  try {
    const addresses = suite.instances.get("relation")!.map((p) => `127.0.0.1:${p.port}`);
    const call = "relation.v1.RelationService.IsFollowing";
    const data = JSON.stringify({ from_user_id: FROM_USER, to_user_id: TO_USER });
    await ghzSpread("warm-up", addresses, call, data, { seconds: WARMUP_SECONDS, concurrency });
    const grpc = await ghzSpread("relation IsFollowing (gRPC)", addresses, call, data, { seconds, concurrency, reportErrors: true });
    const http = await gatewayRoute(suite, await signedIn(suite), processes);
    return [{ ...grpc, processes }, http];
  } finally {
    await suite.stop();
  }
}

const rows = [...(await measure(1)), ...(await measure(2))];
const names = [...new Set(rows.map((r) => r.name))];
const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(i === 0 ? 40 : 12)).join("") + "\n";
process.stdout.write(line(["call", "processes", "req/s", "p50 ms", "p99 ms", "errors"]));
for (const r of rows) process.stdout.write(line([r.name, r.processes, r.rps, r.p50Ms, r.p99Ms, r.errors]));
const ratios = Object.fromEntries(
  names.map((name) => {
    const [one, two] = [1, 2].map((n) => rows.find((r) => r.name === name && r.processes === n)!);
    return [name, Number((two!.rps / one!.rps).toFixed(2))];
  }),
);
for (const [name, ratio] of Object.entries(ratios)) process.stdout.write(`${name}: two processes / one = ${ratio}×\n`);
writeResult({ seconds, concurrency, cores: os.availableParallelism(), rows, ratios });

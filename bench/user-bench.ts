/**
 * Speed of the user service against the bare grpc-js echo baseline, measured in
 * one run with ghz (same concurrency, same duration, one after the other):
 * GetUser and BatchGetUsers(100) from a warm profile cache, then Login at the
 * configured bcrypt cost. Run by hand, against the running local servers:
 *
 *   node --import tsx bench/user-bench.ts [seconds=10] [concurrency=50] [users=10000]
 *
 * Needs ghz (`go install github.com/bojand/ghz/cmd/ghz@v0.121.0`) on PATH or in
 * $(go env GOPATH)/bin. Seeds users straight into two throwaway rs_test_*
 * databases (one bcrypt hash shared by all), starts the echo server and the user
 * service as separate processes the way the stack does, and removes everything
 * afterwards. Prints a table and a JSON summary. BCRYPT_COST sets the login cost.
 */
import type { ChildProcess } from "node:child_process";
import os from "node:os";
import { BCRYPT_COST_DEFAULT } from "@rs/user";
import { spawnEchoServer, stopProcess } from "./lib/bench-processes.js";
import { cpuSeconds } from "./lib/cpu-time.js";
import { ghz, type GhzResult } from "./lib/ghz.js";
import { writeResult } from "./lib/results.js";
import { createUserFixture, FIRST_USER_ID as FIRST_ID, USER_PASSWORD as PASSWORD } from "./lib/user-fixture.js";
import { ECHO_ROW } from "./lib/summary.js";

const seconds = Number(process.argv[2] ?? 10);
const concurrency = Number(process.argv[3] ?? 50);
const users = Number(process.argv[4] ?? 10_000);
const bcryptCost = Number(process.env.BCRYPT_COST ?? BCRYPT_COST_DEFAULT);
/** Logins are bcrypt-bound (libuv's 4 threads); more callers only queue. */
const LOGIN_CONCURRENCY = 8;
/** The stack preloads OpenTelemetry into every process; BENCH_TELEMETRY=0 measures without it. */
const withTelemetry = process.env.BENCH_TELEMETRY !== "0";
const WARMUP_SECONDS = 2;
const BATCH = 100;

interface Result extends GhzResult {
  /** CPU time of the server process per call: steadier than req/s on a shared machine. */
  serverCpuMicrosPerCall?: number;
  /** CPU time of ghz per call: on a small machine the load generator competes with the server. */
  clientCpuMicrosPerCall?: number;
}

const MICROS_PER_SECOND = 1e6;

const fixture = await createUserFixture(users, bcryptCost);
let echo: ChildProcess | undefined;
let user: ChildProcess | undefined;
try {
  const echoServer = await spawnEchoServer();
  echo = echoServer.child;
  const started = await fixture.start({ telemetry: withTelemetry });
  user = started.child;
  const echoAddr = echoServer.address;
  const userAddr = started.address;

  // Quoted: ghz checks the data is JSON before it fills the template in; proto JSON takes int64 as a string.
  const randomId = `"{{randomInt ${FIRST_ID} ${FIRST_ID + users}}}"`;
  const runs = {
    echo: [echoAddr, "echo.v1.EchoService.Echo", JSON.stringify({ message: "hi" })],
    getUser: [userAddr, "user.v1.UserService.GetUser", `{"user_id":${randomId}}`],
    batch100: [userAddr, "user.v1.UserService.BatchGetUsers", `{"user_ids":[${Array(BATCH).fill(randomId).join(",")}]}`],
    login: [userAddr, "user.v1.UserService.Login", `{"username":"bench_{{randomInt 0 ${users}}}","password":"${PASSWORD}"}`],
  } as const;
  const measure = (name: string, [addr, call, data]: readonly [string, string, string], c = concurrency) => {
    ghz(`${name} (warm-up)`, addr, call, data, { seconds: WARMUP_SECONDS, concurrency: c });
    const server = addr === echoAddr ? echo : user;
    const [srv0, cli0] = [cpuSeconds(server?.pid), cpuSeconds("self", true)];
    const result: Result = ghz(name, addr, call, data, { seconds, concurrency: c });
    const [srv1, cli1] = [cpuSeconds(server?.pid), cpuSeconds("self", true)];
    const calls = result.rps * seconds;
    const perCall = (a: number | undefined, b: number | undefined) =>
      a !== undefined && b !== undefined && calls > 0 ? Math.round(((b - a) * MICROS_PER_SECOND) / calls) : undefined;
    result.serverCpuMicrosPerCall = perCall(srv0, srv1);
    result.clientCpuMicrosPerCall = perCall(cli0, cli1);
    return result;
  };
  const echoResult = measure(ECHO_ROW, runs.echo);
  const results = [echoResult, measure("GetUser (cached)", runs.getUser), measure(`BatchGetUsers(${BATCH}) (cached)`, runs.batch100)];
  const login = measure(`Login (bcrypt cost ${bcryptCost})`, runs.login, LOGIN_CONCURRENCY);

  const rows = [...results, login].map((r) => ({ ...r, ratioToEcho: Number((r.rps / echoResult.rps).toFixed(2)) }));
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  process.stdout.write(
    `\nuser-bench: ${seconds}s per run, concurrency ${concurrency} (login ${LOGIN_CONCURRENCY}), ${users} users, telemetry ${withTelemetry ? "on" : "off"}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load average ${load}\n`,
  );
  process.stdout.write(
    `${"call".padEnd(32)}${pad("req/s", 9)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("× echo", 9)}${pad("server µs/call", 16)}${pad("ghz µs/call", 13)}${pad("errors", 8)}\n`,
  );
  for (const r of rows) {
    const cells = [
      pad(r.rps, 9),
      pad(r.p50Ms, 9),
      pad(r.p99Ms, 9),
      pad(r.ratioToEcho, 9),
      pad(r.serverCpuMicrosPerCall ?? "-", 16),
      pad(r.clientCpuMicrosPerCall ?? "-", 13),
      pad(r.errors, 8),
    ];
    process.stdout.write(`${r.name.padEnd(32)}${cells.join("")}\n`);
  }
  writeResult({ seconds, concurrency, loginConcurrency: LOGIN_CONCURRENCY, users, bcryptCost, withTelemetry, results: rows });
} finally {
  await stopProcess(echo);
  await fixture.close();
}

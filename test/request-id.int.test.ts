/**
 * X-Request-Id end to end with tracing OFF: one follow through the gateway,
 * given an id by the caller, leaves log lines carrying that id in the gateway,
 * the relation service, the user service it asks (UserExists), the persister,
 * and both count.changed consumers (the persister's count.changed records name
 * the originating request); a list request reaches the user service's
 * BatchGetUsers with its own id. The real entry points run as child processes
 * (test/support/suite.ts) and their stdout is read as it is written.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type Answer } from "../gateway/test/support/http.js";
import { ALL_APPS, startSuite, type AppName, type Suite } from "./support/suite.js";

type Line = Record<string, unknown>;

const POLL_MS = 100;
const LOG_TIMEOUT_MS = 20_000;
const tag = randomBytes(4).toString("hex");

let suite: Suite | undefined;
const logs = new Map<AppName, Line[]>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps every JSON line a process prints from now on. */
function collect(name: AppName, stream: NodeJS.ReadableStream): void {
  const lines: Line[] = [];
  logs.set(name, lines);
  let rest = "";
  stream.on("data", (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split("\n");
    rest = parts.pop() ?? "";
    for (const p of parts) {
      if (!p.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(p) as Line);
      } catch {
        // not a log line
      }
    }
  });
}

/** The request ids a line names: `request_id`, or `request_ids` for a line about several. */
const idsOf = (l: Line): unknown[] => [l.request_id, ...((l.request_ids as unknown[] | undefined) ?? [])].filter((x) => x !== undefined);

/** Waits until every process in `wanted` has a line that names `id` and matches its predicate. */
async function linesNaming(id: string, wanted: Partial<Record<AppName, (l: Line) => boolean>>): Promise<Partial<Record<AppName, Line>>> {
  const deadline = Date.now() + LOG_TIMEOUT_MS;
  for (;;) {
    const found: Partial<Record<AppName, Line>> = {};
    for (const [name, match] of Object.entries(wanted) as [AppName, (l: Line) => boolean][]) {
      const line = logs.get(name)?.find((l) => idsOf(l).includes(id) && match(l));
      if (line) found[name] = line;
    }
    if (Object.keys(found).length === Object.keys(wanted).length || Date.now() > deadline) return found;
    await sleep(POLL_MS);
  }
}

const summary = (names: readonly AppName[]) =>
  names
    .map(
      (n) =>
        `--- ${n}\n${(logs.get(n) ?? [])
          .slice(-15)
          .map((l) => JSON.stringify(l).slice(0, 300))
          .join("\n")}`,
    )
    .join("\n");

beforeAll(async () => {
  suite = await startSuite({
    label: "reqidtest",
    apps: ALL_APPS.filter((a) => a !== "count"),
    // Tracing off (no collector named), so only the request context carries the id.
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: "", LOG_LEVEL: "info" },
    // The rpc servers log one line per call at debug only.
    envFor: { relation: { LOG_LEVEL: "debug" }, user: { LOG_LEVEL: "debug" } },
  });
  for (const [name, p] of suite.processes) if (p.child.stdout) collect(name, p.child.stdout);
}, 120_000);

afterAll(async () => {
  await suite?.stop();
});

async function register(label: string): Promise<{ id: number; token: string }> {
  const r: Answer = await api(suite!.gatewayUrl, "POST", "/user/register", { body: { username: `rq${label}${tag}`, password: "reqid-secret-pw" } });
  expect(r.status).toBe(201);
  return { id: Number(r.body.userId), token: String(r.body.token) };
}

describe("X-Request-Id through the suite, tracing off", () => {
  it("a follow's id is on its lines in the gateway, relation, user, persister and both consumers; a list's reaches BatchGetUsers", async () => {
    const [a, b] = [await register("a"), await register("b")];
    const followId = `follow-${tag}`;
    const follow = await api(suite!.gatewayUrl, "POST", "/relation/follow", {
      token: a.token,
      body: { followUserId: b.id },
      headers: { "x-request-id": followId },
    });
    expect(follow.status).toBe(200);
    expect(follow.headers.get("x-request-id")).toBe(followId);

    const batchHandled = (l: Line) => l.msg === "batch handled";
    const rpc = (method: string) => (l: Line) => l.msg === "rpc" && l.method === method && l.code === "OK";
    const wanted = {
      gateway: (l: Line) => l.msg === "request" && l.route === "/api/relation/follow",
      relation: rpc("/relation.v1.RelationService/Follow"),
      user: rpc("/user.v1.UserService/UserExists"),
      "relation-persister": batchHandled,
      "count-consumer": batchHandled,
      "user-consumer": batchHandled,
    } satisfies Partial<Record<AppName, (l: Line) => boolean>>;
    const found = await linesNaming(followId, wanted);
    const missing = Object.keys(wanted).filter((n) => !(n in found)) as AppName[];
    expect(missing, `no line naming ${followId} in:\n${summary(missing)}`).toEqual([]);
    expect(found["relation-persister"]).toMatchObject({ topic: suite!.topics.relationEvents });
    expect(found["count-consumer"]).toMatchObject({ topic: suite!.topics.countChanged });

    const listId = `list-${tag}`;
    const list = await api(suite!.gatewayUrl, "GET", "/relation/following", {
      token: a.token,
      query: { userId: a.id, limit: 10 },
      headers: { "x-request-id": listId },
    });
    expect(list.status).toBe(200);
    const listLines = await linesNaming(listId, {
      relation: rpc("/relation.v1.RelationService/ListFollowing"),
      user: rpc("/user.v1.UserService/BatchGetUsers"),
    });
    expect(Object.keys(listLines).sort(), summary(["relation", "user"])).toEqual(["relation", "user"]);

    // No tracing: the ids came without any trace context.
    for (const lines of logs.values()) expect(lines.filter((l) => l.trace_id !== undefined)).toEqual([]);
  });
});

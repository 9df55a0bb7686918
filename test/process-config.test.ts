/**
 * A process started with bad configuration stops at once, exits non-zero and
 * names the variable that is wrong, without echoing its value. Spawns the real
 * entry points exactly as the local stack does.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { APPS } from "../deploy/stack/apps.js";
import { ROOT, infraEnv } from "../deploy/stack/settings.js";

const GOOD_SECRET = "s".repeat(48);

function startWith(app: string, env: Record<string, string | undefined>) {
  const spec = APPS.find((a) => a.name === app);
  if (!spec) throw new Error(`no app ${app}`);
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    ...infraEnv(),
    GRPC_PORT: "0",
    HTTP_PORT: "0",
    ADMIN_PORT: "0",
    JWT_SECRET: GOOD_SECRET,
    LOG_LEVEL: "silent",
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, spec.entry)], {
    cwd: ROOT,
    env: base,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, stderr: r.stderr };
}

describe("a process with bad configuration", () => {
  it.each(["relation", "user", "count", "relation-persister"])("%s: a malformed DSN exits non-zero naming MYSQL_SHARD_DSNS", (app) => {
    const r = startWith(app, { MYSQL_SHARD_DSNS: "mysql://rs:hunter2-secret@127.0.0.1:13306" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("MYSQL_SHARD_DSNS");
    expect(r.stderr).not.toContain("hunter2-secret");
  });

  it.each(["gateway", "user"])("%s: a missing JWT secret exits non-zero naming JWT_SECRET", (app) => {
    const r = startWith(app, { JWT_SECRET: undefined });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("JWT_SECRET");
  });

  it("names every wrong variable at once", () => {
    const r = startWith("relation", { REDIS_URL: "http://wrong", KAFKA_BROKERS: "no-port" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("REDIS_URL");
    expect(r.stderr).toContain("KAFKA_BROKERS");
  });
});

/**
 * The alert rules, their unit tests and both Prometheus configs (compose's and
 * the one the local stack generates) pass promtool, which Debian's prometheus
 * package installs with the server (deploy/bootstrap.sh). The dashboard's
 * queries are valid PromQL too: promtool checks them as recording rules.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { APPS, INSTANCE_PORT_STRIDE, appInstances } from "../deploy/stack/apps.js";
import { ALERT_RULES, LOCAL_SCRAPE_INTERVAL, localPrometheusConfig, prometheusEnabled, writeLocalPrometheusConfig } from "../deploy/stack/prometheus.js";
import { HOST, ROOT, ports } from "../deploy/stack/settings.js";
import { dashboardQueries } from "./dashboard.js";

const promtoolVersion = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const havePromtool = promtoolVersion.status === 0;
if (!havePromtool) console.info("skipping the promtool checks: promtool is not installed (Debian's prometheus package; ./dev.sh installs it)");

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "rs-promtool-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function promtool(...args: string[]) {
  const r = spawnSync("promtool", args, { cwd: ROOT, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!havePromtool)("promtool", () => {
  it("accepts the alert rules", () => {
    const r = promtool("check", "rules", "deploy/prometheus/alerts.yml");
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status, r.output).toBe(0);
  });

  it("passes the rules' unit tests (deploy/prometheus/alerts.test.yml)", () => {
    const r = promtool("test", "rules", "deploy/prometheus/alerts.test.yml");
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS/);
  });

  it("fails a unit test when a rule changes (negative control)", () => {
    // The same tests against rules whose gRPC error codes include NOT_FOUND, a client error.
    const dir = fs.mkdtempSync(path.join(scratch, "broken-"));
    const rules = fs.readFileSync(ALERT_RULES, "utf8").replace('grpc_code=~"UNKNOWN|', 'grpc_code=~"NOT_FOUND|UNKNOWN|');
    expect(rules).toContain("NOT_FOUND|UNKNOWN");
    fs.writeFileSync(path.join(dir, "alerts.yml"), rules);
    fs.copyFileSync(path.join(ROOT, "deploy/prometheus/alerts.test.yml"), path.join(dir, "alerts.test.yml"));
    const r = promtool("test", "rules", path.join(dir, "alerts.test.yml"));
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/GrpcServerErrorRateHigh/);
  });

  it("accepts compose's Prometheus config with the rules it loads", () => {
    const r = promtool("check", "config", "deploy/prometheus/prometheus.yml");
    expect(r.output).toMatch(/SUCCESS: 1 rule files found/);
    expect(r.status, r.output).toBe(0);
  });

  it("accepts the config the local stack generates", () => {
    const file = writeLocalPrometheusConfig(path.join(scratch, "local", "prometheus.yml"));
    const r = promtool("check", "config", file);
    expect(r.output).toMatch(/SUCCESS: 1 rule files found/);
    expect(r.status, r.output).toBe(0);
  });

  it("accepts every query of the Grafana dashboard as PromQL", () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    // Grafana's variables as Prometheus would see them after substitution.
    const rules = {
      groups: [
        {
          name: "dashboard",
          rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr.replaceAll("$__rate_interval", "1m").replaceAll("$job", ".*") })),
        },
      ],
    };
    const file = path.join(scratch, "dashboard-queries.yml");
    fs.writeFileSync(file, JSON.stringify(rules));
    const r = promtool("check", "rules", file);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`SUCCESS: ${queries.length} rules found`);
  });
});

describe("the local stack's Prometheus config", () => {
  const cfg = localPrometheusConfig();

  it("scrapes every process on its admin port, and itself, every 5 s", () => {
    expect(cfg.global.scrape_interval).toBe("5s");
    expect(cfg.global.evaluation_interval).toBe(LOCAL_SCRAPE_INTERVAL);
    const jobs = Object.fromEntries(cfg.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((s) => s.targets)]));
    expect(Object.keys(jobs).sort()).toEqual([...APPS.map((a) => a.name), "prometheus"].sort());
    for (const app of APPS) expect(jobs[app.name], app.name).toEqual(appInstances(app).map((i) => `${HOST}:${i.admin.port}`));
    expect(jobs.prometheus).toEqual([`${HOST}:${ports.prometheus.port}`]);
  });

  it("has one job per service with a target per process when several run (RS_PROCESSES)", () => {
    const jobs = Object.fromEntries(localPrometheusConfig(3).scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((s) => s.targets)]));
    for (const app of APPS) {
      const moved = [0, 1, 2].map((k) => `${HOST}:${app.admin.port + k * INSTANCE_PORT_STRIDE}`);
      expect(jobs[app.name], app.name).toEqual(moved);
    }
  });

  it("loads the same rules file as compose", () => {
    expect(cfg.rule_files).toEqual([path.join(ROOT, "deploy/prometheus/alerts.yml")]);
    expect(fs.existsSync(cfg.rule_files[0]!)).toBe(true);
  });
});

describe("RS_PROMETHEUS", () => {
  it("leaves Prometheus on by default and turns it off with 0 (or false/off/no)", () => {
    expect(prometheusEnabled({})).toBe(true);
    expect(prometheusEnabled({ RS_PROMETHEUS: "1" })).toBe(true);
    expect(prometheusEnabled({ RS_PROMETHEUS: "" })).toBe(true);
    for (const off of ["0", "false", "off", "no", " OFF "]) expect(prometheusEnabled({ RS_PROMETHEUS: off }), off).toBe(false);
  });
});

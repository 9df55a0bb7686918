/**
 * docker-compose.yml (and the layers it includes) is valid against the official
 * Compose Specification schema and keeps the suite's own rules: every process
 * gets the environment its config schema requires, long-running services have
 * healthchecks, start order waits on health or completion, ports are the
 * README's, settings are the local stack's, and no secret is written down.
 * No Docker engine is needed; `docker compose config` runs only where the CLI is.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { APPS } from "../deploy/stack/apps.js";
import { MYSQL_USER, SHARD_DATABASES, TOPICS } from "../deploy/stack/settings.js";
import { VIRTUAL_SHARDS_DEFAULT, loadConfig } from "../pkg/config/src/index.js";
import {
  COMPOSE_FILE,
  ROOT,
  argv,
  composeSchemaValidator,
  dependencies,
  interpolate,
  loadComposeFiles,
  mergeServices,
  rawEnvironment,
  stringsIn,
  variableReferences,
  type ComposeService,
} from "./compose-model.js";
import { configSchemaOf, readmePorts, requiredKeys } from "./process-contracts.js";
import { resolveServiceHost } from "../pkg/bootstrap/src/service-host.js";
import { importSpecifiers, runtimeImports, workspacePackages } from "./runtime-imports.js";
import { allPanels, dashboardQueries, dashboards } from "./dashboard.js";
import { METRIC_CONTRACT, contractMetricOf, promqlMetricNames, suiteSources } from "./metric-contract.js";

/** Stand-ins for the secrets a deployment puts in .env. */
const TEST_SECRETS = {
  JWT_SECRET: "t".repeat(48),
  MYSQL_PASSWORD: "test-db-password",
  MYSQL_ROOT_PASSWORD: "test-root-password",
  GRAFANA_ADMIN_PASSWORD: "test-grafana-password",
};
const ONE_SHOTS = ["migrate", "kafka-init"] as const;
const INFRA = ["mysql", "redis", "kafka", "etcd"] as const;
const OBSERVABILITY = ["jaeger", "prometheus", "grafana"] as const;
/** The application layer's edge: the one published entry point in front of the gateway replicas. */
const EDGE = ["gateway-proxy"] as const;

const files = loadComposeFiles();
const services = mergeServices(files);
const service = (name: string): ComposeService => {
  const svc = services[name];
  if (!svc) throw new Error(`docker-compose.yml has no service ${name}`);
  return svc;
};
const env = (name: string) => Object.fromEntries(Object.entries(rawEnvironment(service(name))).map(([k, v]) => [k, interpolate(v, TEST_SECRETS)]));
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), "utf8");
const yaml = (rel: string) => parseYaml(read(rel)) as unknown;

/** A bind mount's host path, resolved from the compose file that declares it; undefined for a named volume. */
function bindSource(name: string, volume: string): string | undefined {
  const source = volume.split(":")[0]!;
  if (!source.startsWith(".") && !source.startsWith("/")) return undefined;
  return path.resolve(path.dirname(service(name).definedIn as string), source);
}
const mountOf = (name: string, target: string) => (service(name).volumes ?? []).map(String).find((v) => v.split(":")[1] === target);

/** `${env:VAR:-default}` in an OpenTelemetry Collector config, with the compose service's environment. */
const otelEnv = (value: unknown, vars: Record<string, string>) =>
  String(value).replace(/\$\{env:(\w+)(?::-([^}]*))?\}/g, (_m, k: string, d?: string) => vars[k] ?? d ?? "");
const portOf = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));

/** What compose's Jaeger runs with: deploy/jaeger/config.yaml under the jaeger service's environment. */
function jaegerConfig() {
  type Endpoint = { endpoint: string };
  const cfg = yaml("deploy/jaeger/config.yaml") as {
    service: {
      extensions: string[];
      pipelines: { traces: { receivers: string[]; exporters: string[] } };
      telemetry: { metrics: { readers: { pull: { exporter: { prometheus: { host: string; port: unknown } } } }[] } };
    };
    extensions: {
      healthcheckv2: { http: Endpoint };
      jaeger_query: { http: Endpoint; storage: { traces: string } };
      jaeger_storage: { backends: Record<string, { memory?: { max_traces: unknown } }> };
    };
    receivers: { otlp: { protocols: { grpc: Endpoint; http: Endpoint } } };
  };
  const vars = env("jaeger");
  const at = (e: Endpoint) => ({ host: otelEnv(e.endpoint, vars).split(":")[0], port: portOf(otelEnv(e.endpoint, vars)) });
  const prom = cfg.service.telemetry.metrics.readers[0]!.pull.exporter.prometheus;
  const store = cfg.extensions.jaeger_query.storage.traces;
  return {
    cfg,
    otlpGrpc: at(cfg.receivers.otlp.protocols.grpc),
    otlpHttp: at(cfg.receivers.otlp.protocols.http),
    query: at(cfg.extensions.jaeger_query.http),
    health: at(cfg.extensions.healthcheckv2.http),
    metricsHost: otelEnv(prom.host, vars),
    metricsPort: Number(otelEnv(prom.port, vars)),
    maxTraces: Number(otelEnv(cfg.extensions.jaeger_storage.backends[store]?.memory?.max_traces, vars)),
  };
}

describe("docker-compose.yml: files and schema", () => {
  it("is split into the infrastructure, observability and application layers", () => {
    expect(files.map((f) => path.relative(ROOT, f.file))).toEqual([
      "docker-compose.yml",
      "deploy/docker/compose.infra.yml",
      "deploy/docker/compose.observability.yml",
    ]);
    for (const s of INFRA) expect(services[s]?.definedIn).toMatch(/compose\.infra\.yml$/);
    for (const s of OBSERVABILITY) expect(services[s]?.definedIn).toMatch(/compose\.observability\.yml$/);
    for (const s of [...APPS.map((a) => a.name), "migrate", ...EDGE]) expect(services[s]?.definedIn).toBe(COMPOSE_FILE);
    expect(Object.keys(services).sort()).toEqual([...INFRA, ...OBSERVABILITY, ...ONE_SHOTS, ...EDGE, ...APPS.map((a) => a.name)].sort());
  });

  it("every file is valid against the Compose Specification JSON schema", () => {
    const validate = composeSchemaValidator();
    for (const { file, doc } of files) {
      const ok = validate(doc);
      expect(ok, `${file}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    }
  });

  it("the schema check catches a broken file (negative control)", () => {
    const validate = composeSchemaValidator();
    const doc = structuredClone(files[0]!.doc);
    doc.services!.gateway!.healthcheck = { tset: ["CMD", "true"] } as never;
    expect(validate(doc)).toBe(false);
    const doc2 = structuredClone(files[0]!.doc);
    doc2.services!.gateway!.depends_on = { redis: { condition: "service_heathly" } };
    expect(validate(doc2)).toBe(false);
  });
});

describe("docker-compose.yml: health and start order", () => {
  const longRunning = Object.keys(services).filter((s) => !(ONE_SHOTS as readonly string[]).includes(s));

  it("every long-running service has an enabled healthcheck", () => {
    expect(longRunning).toHaveLength(INFRA.length + OBSERVABILITY.length + EDGE.length + APPS.length);
    for (const name of longRunning) {
      const hc = service(name).healthcheck;
      expect(hc?.disable, name).not.toBe(true);
      expect(argv(hc?.test).length, `${name} has no healthcheck test`).toBeGreaterThan(1);
      expect(service(name).restart, name).toBe("unless-stopped");
    }
  });

  it("each app's healthcheck asks its admin server's /readyz", () => {
    expect(fs.existsSync(path.join(ROOT, "deploy/docker/readyz-probe.mjs"))).toBe(true);
    for (const app of APPS) {
      expect(argv(service(app.name).healthcheck?.test), app.name).toEqual(["CMD", "node", "deploy/docker/readyz-probe.mjs", "/readyz"]);
    }
  });

  it("the one-shots run once, and what needs them waits for their success", () => {
    for (const name of ONE_SHOTS) {
      expect(service(name).restart, name).toBe("no");
      expect(service(name).healthcheck?.test, name).toBeUndefined();
      const dependents = Object.keys(services).filter((s) => dependencies(service(s))[name]);
      if (name === "migrate") {
        const script = argv(service(name).command).at(-1)!;
        expect(script).toBe("deploy/stack/migrate-cli.ts");
        expect(fs.existsSync(path.join(ROOT, script))).toBe(true);
      }
      expect(dependents.length, `nothing waits for ${name}`).toBeGreaterThan(0);
    }
  });

  it("every depends_on names a service and waits on health (or success, for a one-shot)", () => {
    let edges = 0;
    for (const [name, svc] of Object.entries(services)) {
      expect(Array.isArray(svc.depends_on), `${name}: short-form depends_on has no condition`).toBe(false);
      for (const [dep, opts] of Object.entries(dependencies(svc))) {
        edges++;
        expect(services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
        const want = (ONE_SHOTS as readonly string[]).includes(dep) ? "service_completed_successfully" : "service_healthy";
        expect(opts.condition, `${name} → ${dep}`).toBe(want);
      }
    }
    expect(edges).toBeGreaterThan(APPS.length * 3);
  });

  it("each app (and migrate) depends on every server its environment points at", () => {
    for (const name of [...APPS.map((a) => a.name), "migrate"]) {
      const e = env(name);
      const deps = dependencies(service(name));
      const hosts = new Set<string>();
      for (const dsn of e.MYSQL_SHARD_DSNS?.split(",") ?? []) hosts.add(new URL(dsn).hostname);
      if (e.REDIS_URL) hosts.add(new URL(e.REDIS_URL).hostname);
      for (const u of e.ETCD_ENDPOINTS?.split(",") ?? []) hosts.add(new URL(u).hostname);
      for (const b of e.KAFKA_BROKERS?.split(",") ?? []) hosts.add(b.slice(0, b.lastIndexOf(":")));
      expect(hosts.size, name).toBeGreaterThan(0);
      for (const host of hosts) {
        expect(services[host], `${name} points at ${host}, which is no service`).toBeDefined();
        expect(deps[host]?.condition, `${name} must wait for ${host}`).toBe("service_healthy");
      }
      if (e.MYSQL_SHARD_DSNS && name !== "migrate") expect(deps.migrate?.condition, name).toBe("service_completed_successfully");
      if (e.KAFKA_BROKERS) expect(deps["kafka-init"]?.condition, name).toBe("service_completed_successfully");
    }
  });
});

describe("docker-compose.yml: the suite's processes", () => {
  it.each(APPS.map((a) => [a.name, a.entry]))("%s runs its entry (%s) with node --import tsx from the suite's image", (name, entry) => {
    const svc = service(name);
    const cmd = argv(svc.command);
    expect(cmd.slice(0, 3)).toEqual(["node", "--import", "tsx"]);
    expect(cmd.at(-1)).toBe(entry);
    expect(svc.build).toEqual({ context: ".", dockerfile: "deploy/docker/Dockerfile" });
    expect(svc.image).toBe(service("migrate").image);
  });

  it.each(APPS.map((a) => [a.name]))("%s gets every variable its config schema requires, and the whole environment validates", async (name) => {
    const schema = await configSchemaOf(name);
    const e = env(name);
    const required = requiredKeys(schema);
    expect(required.length).toBeGreaterThan(0);
    for (const key of required) expect(e[key], `${name} lacks ${key}`).toBeTruthy();
    // The real loader, with the cross-field rules (e.g. JWT_SECRET under HS256).
    expect(() => loadConfig(schema, e)).not.toThrow();
    expect(e.OTEL_SERVICE_NAME).toBe(name);
    expect(e.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://jaeger:4318");
    expect(e.SERVICE_HOST, "each replica registers its own container address").toBe("auto");
  });

  it("listens on the README's ports; no app publishes a host port (so each scales), the API is published once, by gateway-proxy", () => {
    const readme = readmePorts();
    for (const [name, { port }] of Object.entries(readme.listen)) {
      expect(Number(env(name)[name === "gateway" ? "HTTP_PORT" : "GRPC_PORT"]), name).toBe(port);
    }
    for (const app of APPS) {
      expect(service(app.name).ports, `${app.name} publishes a host port: a second replica could not start`).toBeUndefined();
      expect(service(app.name).container_name, app.name).toBeUndefined();
      expect(service(app.name).hostname, app.name).toBeUndefined();
    }
    const gatewayPort = readme.listen.gateway!;
    expect((service("gateway-proxy").ports ?? []).map(String)).toEqual([
      `\${RS_GATEWAY_BIND:-0.0.0.0}:\${${gatewayPort.variable}:-${gatewayPort.port}}:${gatewayPort.port}`,
    ]);
    const admin = APPS.map((a) => Number(env(a.name).ADMIN_PORT)).sort((a, b) => a - b);
    const range = Array.from({ length: readme.admin.to - readme.admin.from + 1 }, (_, i) => readme.admin.from + i);
    expect(admin).toEqual(range);
    for (const app of APPS) {
      if (process.env[app.admin.variable] === undefined) expect(Number(env(app.name).ADMIN_PORT), app.name).toBe(app.admin.port);
    }
  });

  it("Prometheus scrapes every process on its admin port, and Jaeger, and loads the alert rules beside its config", async () => {
    const { parse } = await import("yaml");
    const cfg = parse(read("deploy/prometheus/prometheus.yml")) as {
      rule_files: string[];
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[]; static_configs?: { targets: string[] }[] }[];
    };
    expect(service("prometheus").volumes).toContain("../prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
    for (const app of APPS) {
      const job = cfg.scrape_configs.find((j) => j.job_name === app.name);
      expect(job?.dns_sd_configs, app.name).toEqual([{ names: [app.name], type: "A", port: Number(env(app.name).ADMIN_PORT) }]);
    }
    // Relative rule files are read from the config's folder, /etc/prometheus.
    expect(cfg.rule_files).toEqual(["alerts.yml"]);
    expect(service("prometheus").volumes).toContain("../prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro");
    const jaegerMetrics = cfg.scrape_configs.find((j) => j.job_name === "jaeger")?.static_configs?.[0]?.targets;
    expect(jaegerMetrics).toEqual([`jaeger:${jaegerConfig().metricsPort}`]);
  });
});

describe("docker-compose.yml: the local stack's settings", () => {
  it("two shard DSNs on the mysql service, 64 virtual shards, databases made by the init SQL", () => {
    for (const name of ["migrate", "user", "count", "relation", "relation-persister", "count-consumer", "user-consumer"]) {
      const dsns = env(name)
        .MYSQL_SHARD_DSNS!.split(",")
        .map((d) => new URL(d));
      expect(
        dsns.map((u) => u.pathname.slice(1)),
        name,
      ).toEqual([...SHARD_DATABASES]);
      for (const u of dsns)
        expect([u.protocol, u.hostname, u.port, u.username, u.password]).toEqual(["mysql:", "mysql", "3306", MYSQL_USER, TEST_SECRETS.MYSQL_PASSWORD]);
      expect(Number(env(name).MYSQL_VIRTUAL_SHARDS), name).toBe(VIRTUAL_SHARDS_DEFAULT);
    }
    expect(service("mysql").image).toMatch(/^mysql:8(\.|$)/);
    expect(env("mysql").MYSQL_USER).toBe(MYSQL_USER);
    expect(service("mysql").volumes).toContain("./mysql-init:/docker-entrypoint-initdb.d:ro");
    const sql = fs
      .readdirSync(path.join(ROOT, "deploy/docker/mysql-init"))
      .map((f) => read(`deploy/docker/mysql-init/${f}`))
      .join("\n");
    for (const db of SHARD_DATABASES) {
      expect(sql).toMatch(new RegExp(`CREATE DATABASE IF NOT EXISTS \`${db}\``));
      expect(sql).toMatch(new RegExp(`GRANT ALL PRIVILEGES ON \`${db}\`\\.\\* TO '${MYSQL_USER}'@'%'`));
    }
  });

  it("Kafka 3.9 in KRaft mode with 8 partitions by default and the suite's topics created by kafka-init", () => {
    const k = env("kafka");
    expect(service("kafka").image).toMatch(/^apache\/kafka:3\.9\.\d+$/);
    expect(k.KAFKA_PROCESS_ROLES).toBe("broker,controller");
    expect(k.KAFKA_NUM_PARTITIONS).toBe("8");
    expect(k.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe("false");
    const script = argv(service("kafka-init").command).join(" ");
    for (const t of Object.values(TOPICS)) {
      expect(script).toMatch(new RegExp(`--create --if-not-exists --topic ${t.name.replace(".", "\\.")} --partitions ${t.partitions} `));
    }
    for (const name of APPS.map((a) => a.name)) if (env(name).KAFKA_BROKERS) expect(env(name).KAFKA_BROKERS).toBe("kafka:9092");
  });

  it("Redis 7 with an append-only file; etcd 3.5; pinned third-party images", () => {
    expect(service("redis").image).toMatch(/^redis:7(\.|$)/);
    expect(argv(service("redis").command)).toEqual(expect.arrayContaining(["--appendonly", "yes"]));
    expect(service("etcd").image).toMatch(/^quay\.io\/coreos\/etcd:v3\.5\.\d+$/);
    for (const name of [...INFRA, ...OBSERVABILITY, ...EDGE, "kafka-init"]) expect(service(name).image, name).toMatch(/:[^:]*\d[^:]*$/);
  });
});

describe("docker-compose.yml: secrets", () => {
  it("secrets are required interpolations, never literals", () => {
    const secretLike = /SECRET|PASSWORD|PRIVATE_KEY/;
    let checked = 0;
    for (const [name, svc] of Object.entries(services)) {
      for (const [key, value] of Object.entries(rawEnvironment(svc))) {
        if (secretLike.test(key) && key !== "MYSQL_USER") {
          expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
          checked++;
        }
        if (key === "MYSQL_SHARD_DSNS") {
          for (const dsn of value.split(",")) expect(dsn, `${name}.${key}`).toMatch(/^mysql:\/\/rs:\$\{MYSQL_PASSWORD:\?[^}]+\}@/);
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it("a missing secret stops compose with a message naming it", () => {
    expect(() => interpolate(rawEnvironment(service("gateway")).JWT_SECRET!, {})).toThrow(/JWT_SECRET.*\.env/);
    expect(() => interpolate(rawEnvironment(service("mysql")).MYSQL_ROOT_PASSWORD!, {})).toThrow(/MYSQL_ROOT_PASSWORD/);
  });
});

describe("docker-compose.yml: scale-out (`docker compose up --scale <app>=N`)", () => {
  const proxyConf = read("deploy/docker/gateway-proxy.conf");
  const directive = (name: string) => [...proxyConf.matchAll(new RegExp(`^\\s*${name}\\s+([^;]+);`, "gm"))].map((m) => m[1]!.trim());

  it("each gRPC replica registers its own container address, never the service name all replicas share", () => {
    for (const app of APPS) {
      const host = env(app.name).SERVICE_HOST!;
      expect(host, app.name).toBe("auto");
      const replica = (ip: string) =>
        resolveServiceHost(host, {
          eth0: [{ address: ip, family: "IPv4", internal: false, netmask: "255.255.0.0", mac: "02:42:ac:12:00:05", cidr: `${ip}/16` }],
        });
      expect(replica("172.18.0.5"), app.name).not.toBe(replica("172.18.0.6"));
    }
  });

  it("gateway-proxy (nginx ≥ 1.27.3, for `resolve`) mounts its config and fronts every gateway replica, re-resolved through Docker's DNS", () => {
    const svc = service("gateway-proxy");
    const [major, minor, patch = 0] = svc
      .image!.match(/^nginx:(\d+)\.(\d+)(?:\.(\d+))?(-alpine)?$/)!
      .slice(1, 4)
      .map((x) => Number(x ?? 0));
    expect(major! * 1e6 + minor! * 1e3 + patch, svc.image).toBeGreaterThanOrEqual(1_027_003);
    expect(bindSource("gateway-proxy", mountOf("gateway-proxy", "/etc/nginx/nginx.conf")!)).toBe(path.join(ROOT, "deploy/docker/gateway-proxy.conf"));
    expect(directive("resolver")[0]).toMatch(/^127\.0\.0\.11 valid=\d+s/);
    expect(directive("server")).toContain(`gateway:${env("gateway").HTTP_PORT} resolve max_fails=1 fail_timeout=5s`);
    expect(directive("zone")).toHaveLength(1);
    expect(directive("proxy_pass")).toEqual(["http://gateway"]);
    expect(directive("proxy_set_header")).toContain("X-Forwarded-For $proxy_add_x_forwarded_for");
    // What it publishes is what it listens on; its healthcheck asks its loopback-only listener.
    const listens = directive("listen");
    const published = String(svc.ports![0]).split(":").at(-1)!;
    expect(listens).toContain(published);
    const health = argv(svc.healthcheck?.test).at(-1)!;
    expect(listens).toContain(new URL(health).host);
    expect(new URL(health).hostname).toBe("127.0.0.1");
    expect(dependencies(svc).gateway?.condition).toBe("service_healthy");
  });

  it("the gateway trusts exactly the proxy's X-Forwarded-For hop by default, so rate limits see the client, not the proxy", async () => {
    expect(rawEnvironment(service("gateway")).HTTP_TRUST_PROXY_HOPS).toBe("${HTTP_TRUST_PROXY_HOPS:-1}");
    const { loadGatewayConfig } = await import("../gateway/src/config.js");
    expect(loadGatewayConfig(env("gateway")).HTTP_TRUST_PROXY_HOPS).toBe(1);
  });
});

/** deploy/docker/env.example: `NAME=value` (set) and `# NAME=value` (optional, its default) lines. */
function envExample(): Map<string, { value: string; commented: boolean }> {
  const out = new Map<string, { value: string; commented: boolean }>();
  for (const line of read("deploy/docker/env.example").split("\n")) {
    const m = line.match(/^(# )?([A-Z][A-Z0-9_]*)=(.*)$/);
    if (m) out.set(m[2]!, { value: m[3]!, commented: m[1] !== undefined });
  }
  return out;
}

describe("deploy/docker/env.example: every setting compose reads from .env", () => {
  const example = envExample();
  const references = files.flatMap((f) => stringsIn(f.doc).flatMap(variableReferences));
  /** App environment entries `KEY: ${KEY:-default}`: an optional process setting the operator may set in .env. */
  const passThroughs = APPS.flatMap((a) =>
    Object.entries(rawEnvironment(service(a.name))).flatMap(([key, raw]) => {
      const refs = variableReferences(raw);
      return refs.length === 1 && refs[0]!.name === key && refs[0]!.op === ":-" && raw === `\${${key}:-${refs[0]!.arg}}`
        ? [{ app: a.name, key, ref: refs[0]! }]
        : [];
    }),
  );

  it("lists exactly the variables the compose files interpolate", () => {
    expect([...example.keys()].sort()).toEqual([...new Set(references.map((r) => r.name))].sort());
    expect(example.size).toBeGreaterThanOrEqual(20);
  });

  it("required variables are set (to a placeholder), optional ones are commented out", () => {
    for (const [name, { value, commented }] of example) {
      const required = references.some((r) => r.name === name && (r.op === ":?" || r.op === "?"));
      expect(commented, `${name}: ${required ? "required, so set it" : "optional, so comment it out"}`).toBe(!required);
      if (required) expect(value, name).toMatch(/^change-me/);
    }
  });

  it("the user-facing settings it passes through exist in the config schema of every process they reach, and reach every process that reads them", async () => {
    expect(passThroughs.length).toBeGreaterThanOrEqual(15);
    const schemas = Object.fromEntries(await Promise.all(APPS.map(async (a) => [a.name, await configSchemaOf(a.name)] as const)));
    for (const { app, key } of passThroughs) expect(Object.keys(schemas[app]!.shape), `${app} has no setting ${key}`).toContain(key);
    for (const key of new Set(passThroughs.map((p) => p.key))) {
      const readers = APPS.filter((a) => key in schemas[a.name]!.shape).map((a) => a.name);
      expect(
        passThroughs
          .filter((p) => p.key === key)
          .map((p) => p.app)
          .sort(),
        key,
      ).toEqual(readers.sort());
    }
    for (const key of [
      "CORS_ORIGINS",
      "HTTP_TRUST_PROXY_HOPS",
      "JWT_TTL_SECONDS",
      "BCRYPT_COST",
      "RATE_LIMIT_IP_CAPACITY",
      "MYSQL_POOL_SIZE",
      "FOLLOWING_CAP",
    ]) {
      expect(
        passThroughs.map((p) => p.key),
        key,
      ).toContain(key);
    }
  });

  it("each commented default is what applies when the variable is unset: the compose default, else the process's own", async () => {
    for (const { app, key, ref } of passThroughs) {
      const listed = example.get(key)!.value;
      if (ref.arg) {
        expect(listed, `${key} (compose default)`).toBe(ref.arg);
        continue;
      }
      const setting = ((await configSchemaOf(app)).shape as Record<string, { parse(v: unknown): unknown }>)[key]!;
      const fallback = setting.parse(undefined);
      expect(listed, `${key} (${app}'s default)`).toBe(Array.isArray(fallback) ? fallback.join(",") : String(fallback));
    }
    for (const r of references.filter((r) => r.op === ":-" && r.arg)) expect(example.get(r.name)?.value, r.name).toBe(r.arg);
  });

  it("an unset optional setting reaches the process empty, which its loader reads as unset (the schema's default)", async () => {
    const gateway = env("gateway");
    expect(gateway.RATE_LIMIT_IP_CAPACITY).toBe("");
    const { loadGatewayConfig, GATEWAY_DEFAULTS } = await import("../gateway/src/config.js");
    const cfg = loadGatewayConfig(gateway);
    expect(cfg.RATE_LIMIT_IP_CAPACITY).toBe(GATEWAY_DEFAULTS.ipRate.capacity);
    expect(cfg.CORS_ORIGINS).toEqual([]);
    expect(loadGatewayConfig({ ...gateway, CORS_ORIGINS: "https://app.example.com" }).CORS_ORIGINS).toEqual(["https://app.example.com"]);
  });
});

describe("deploy/docker: the image", () => {
  const dockerfile = read("deploy/docker/Dockerfile");

  /** The Dockerfile's stages by name: the FROM line's image and the instructions up to the next FROM. */
  const stages = new Map(
    dockerfile
      .split(/^(?=FROM )/m)
      .filter((part) => part.startsWith("FROM "))
      .map((part) => {
        const [, image, name] = part.match(/^FROM (\S+)(?: AS (\S+))?/)!;
        return [name ?? "", { image: image!, body: part.replace(/\\\n\s*/g, " ") }] as const;
      }),
  );
  const runtime = [...stages.values()].at(-1)!;
  const nodeImage = dockerfile.match(/^ARG NODE_IMAGE=(\S+)$/m)?.[1];

  it("one multi-stage image, pnpm from packageManager, frozen installs", () => {
    expect(stages.size).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/packageManager/);
    expect(JSON.parse(read("package.json")).packageManager).toMatch(/^pnpm@\d+\.\d+\.\d+/);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/);
    for (const m of dockerfile.matchAll(/pnpm install[^\n]*/g)) expect(m[0]).toMatch(/--frozen-lockfile/);
    expect(runtime.body).toMatch(/^CMD \["node", "--import", "tsx"/m);
  });

  it("the runtime stage runs Node.js 24 (the LTS line the README recommends) as a non-root user", () => {
    expect(nodeImage).toMatch(/^node:24(\.\d+){0,2}-(bookworm|trixie)-slim$/);
    expect(runtime.image).toBe("${NODE_IMAGE}");
    expect(runtime.body).toMatch(/^USER (?!root\b|0\b)\S+$/m);
    expect(read("README.md")).toMatch(/Node\.js 24/);
    // the local stack and CI run it too: bootstrap installs Node.js 24 where the machine's is older
    expect(JSON.parse(read("package.json")).engines.node).toBe(">=24");
  });

  it("the runtime stage holds production dependencies only, and the generated gRPC code", () => {
    // Everything in it comes from one stage, which installs with --prod and takes idl/src/gen from the full build.
    const copies = [...runtime.body.matchAll(/^COPY (.*)$/gm)].map((m) => m[1]!);
    expect(copies.length).toBeGreaterThan(0);
    const from = new Set(copies.map((c) => c.match(/--from=(\S+)/)?.[1]));
    expect([...from], "runtime copies from the build context or the full build").toEqual(["prod"]);
    expect(runtime.body).not.toMatch(/pnpm (install|i|add|fetch)\b/);
    const prod = stages.get("prod")!.body;
    expect(prod).toMatch(/pnpm install --prod --frozen-lockfile --offline --ignore-scripts/);
    expect(prod).toMatch(/pnpm fetch --prod/);
    expect(prod).toMatch(/^COPY --from=build \/app\/idl\/src\/gen idl\/src\/gen$/m);
    expect(prod.indexOf("idl/src/gen idl/src/gen")).toBeLessThan(prod.indexOf("pnpm install --prod"));
    expect(prod).toMatch(/test -d idl\/src\/gen/);
    // The full install (with devDependencies) exists only to generate that code.
    expect(stages.get("build")!.body).toMatch(/pnpm install --frozen-lockfile --offline .*test -d idl\/src\/gen/);
  });

  it("what runs needs no devDependency: tsx is a production dependency, and every package the entries load is a dependency of its importer", () => {
    const root = JSON.parse(read("package.json")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    expect(root.dependencies?.tsx).toBeDefined();
    expect(root.devDependencies?.tsx).toBeUndefined();
    const packages = workspacePackages();
    const entries = [
      ...APPS.map((a) => a.entry),
      "deploy/stack/migrate-cli.ts",
      "services/relation/src/reconciler/cli.ts",
      // Preloaded by every app's command.
      ...new Set(
        APPS.flatMap((a) =>
          argv(service(a.name).command)
            .filter((arg) => arg.startsWith("./"))
            .map((arg) => arg.slice(2)),
        ),
      ),
    ];
    expect(entries).toContain("pkg/telemetry/src/register.ts");
    const imports = runtimeImports(entries, packages);
    expect(new Set(imports.map((i) => i.dependency)).size).toBeGreaterThan(20);
    for (const { file, pkg, dependency } of imports) {
      expect(pkg.dependencies[dependency], `${path.relative(ROOT, file)} imports ${dependency}, not in the dependencies of ${pkg.name}`).toBeDefined();
    }
    // The walker sees what matters: type-only imports are not loaded, the rest is.
    expect(importSpecifiers('import type { A } from "a";\nimport b from "b";\nexport { c } from "./c.js";\nawait import("d");')).toEqual(["b", "./c.js", "d"]);
  });

  it(".dockerignore keeps machine-local and secret files out of the build context", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim());
    for (const p of [".git", ".data", ".env", "**/node_modules", "deploy/kafka/libs", "idl/src/gen"]) expect(ignored).toContain(p);
  });

  it("the probe behind the app healthchecks exits 0 on a ready /readyz and 1 otherwise", async () => {
    let status = 200;
    const server = http.createServer((_req, res) => res.writeHead(status).end(status === 200 ? "{}" : "not ready"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = String((server.address() as AddressInfo).port);
    // Asynchronous: a synchronous spawn would block the event loop the server answers on.
    const probe = (adminPort: string | undefined) =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(ROOT, "deploy/docker/readyz-probe.mjs")], {
          env: { PATH: process.env.PATH ?? "", ...(adminPort ? { ADMIN_PORT: adminPort } : {}) },
          stdio: "ignore",
        });
        child.on("error", reject);
        child.on("exit", (code) => resolve(code));
      });
    try {
      expect(await probe(port)).toBe(0);
      status = 503;
      expect(await probe(port)).toBe(1);
      expect(await probe(undefined)).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe("docker-compose.yml: observability", () => {
  it("every bind-mounted file or folder exists", () => {
    let mounts = 0;
    for (const name of Object.keys(services)) {
      for (const v of (service(name).volumes ?? []).map(String)) {
        const source = bindSource(name, v);
        if (!source) continue;
        mounts++;
        expect(fs.existsSync(source), `${name}: ${v} (${source})`).toBe(true);
      }
    }
    expect(mounts).toBeGreaterThanOrEqual(6);
  });

  it("Jaeger v2 from the official image runs deploy/jaeger/config.yaml, healthchecked on /status", () => {
    const svc = service("jaeger");
    expect(svc.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    const cmd = argv(svc.command);
    const target = cmd[cmd.indexOf("--config") + 1]!;
    expect(bindSource("jaeger", mountOf("jaeger", target)!)).toBe(path.join(ROOT, "deploy/jaeger/config.yaml"));
    const j = jaegerConfig();
    expect(argv(svc.healthcheck?.test)).toEqual(["CMD", "wget", "-qO", "/dev/null", `http://127.0.0.1:${j.health.port}/status`]);
    expect(j.cfg.service.extensions).toEqual(expect.arrayContaining(["healthcheckv2", "jaeger_query", "jaeger_storage"]));
  });

  it("Jaeger receives OTLP on 4317/4318 where the apps send it, serves its UI on 16686, keeps a bounded number of traces in memory", () => {
    const j = jaegerConfig();
    for (const e of [j.otlpGrpc, j.otlpHttp, j.query, j.health]) expect(e.host, "listens on the container's interfaces").toBe("0.0.0.0");
    expect([j.otlpGrpc.port, j.otlpHttp.port, j.query.port]).toEqual([4317, 4318, 16686]);
    expect(j.cfg.service.pipelines.traces.receivers).toContain("otlp");
    for (const app of APPS) expect(env(app.name).OTEL_EXPORTER_OTLP_ENDPOINT, app.name).toBe(`http://jaeger:${j.otlpHttp.port}`);
    expect(service("jaeger").ports?.map(String)).toEqual([`127.0.0.1:\${RS_JAEGER_UI_PORT:-16686}:${j.query.port}`]);
    expect(j.maxTraces).toBeGreaterThan(0);
    expect(j.maxTraces).toBeLessThanOrEqual(1_000_000);
  });

  it("Jaeger's own metrics are off 8888 (the gateway's port) and every port the suite uses", () => {
    const j = jaegerConfig();
    const suitePorts = new Set([8888, ...APPS.flatMap((a) => [a.admin.port, ...(a.port ? [a.port.port] : [])]), 9090, 3000]);
    expect(Number.isInteger(j.metricsPort)).toBe(true);
    expect(suitePorts.has(j.metricsPort), String(j.metricsPort)).toBe(false);
    expect(j.metricsHost).toBe("0.0.0.0");
  });

  it("Grafana from the official image is provisioned with the Prometheus datasource and the dashboards folder", () => {
    const svc = service("grafana");
    expect(svc.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(dependencies(svc).prometheus?.condition).toBe("service_healthy");
    expect(bindSource("grafana", mountOf("grafana", "/etc/grafana/provisioning")!)).toBe(path.join(ROOT, "deploy/grafana/provisioning"));
    const dashboardsMount = mountOf("grafana", "/etc/grafana/dashboards")!;
    expect(bindSource("grafana", dashboardsMount)).toBe(path.join(ROOT, "deploy/grafana/dashboards"));

    const ds = yaml("deploy/grafana/provisioning/datasources/prometheus.yml") as {
      datasources: { uid: string; type: string; url: string; isDefault?: boolean }[];
    };
    expect(ds.datasources).toHaveLength(1);
    const prom = ds.datasources[0]!;
    expect(prom).toMatchObject({ type: "prometheus", url: "http://prometheus:9090", isDefault: true });

    const providers = (yaml("deploy/grafana/provisioning/dashboards/relation-suite.yml") as { providers: { type: string; options: { path: string } }[] })
      .providers;
    expect(providers.map((p) => [p.type, p.options.path])).toEqual([["file", "/etc/grafana/dashboards"]]);
    const home = env("grafana").GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(home.startsWith("/etc/grafana/dashboards/")).toBe(true);
    expect(fs.existsSync(path.join(ROOT, "deploy/grafana/dashboards", path.basename(home)))).toBe(true);

    // Every panel, query and variable names the provisioned datasource.
    for (const { file, dashboard } of dashboards()) {
      for (const p of allPanels(dashboard).filter((p) => p.type !== "row")) {
        expect(p.datasource?.uid, `${file}: ${p.title}`).toBe(prom.uid);
        for (const t of p.targets ?? []) expect(t.datasource?.uid ?? p.datasource?.uid, `${file}: ${p.title}`).toBe(prom.uid);
      }
      for (const v of dashboard.templating?.list ?? []) expect(v.datasource?.uid, `${file}: $${v.name}`).toBe(prom.uid);
    }
  });

  it("the dashboard shows each service's request rate, error rate and p50/p99 latency (gRPC and HTTP) and the pipeline", () => {
    const all = dashboards();
    expect(all.map((d) => path.basename(d.file))).toContain("relation-suite.json");
    const ids = all.flatMap((d) => allPanels(d.dashboard).map((p) => `${d.dashboard.uid}/${p.id}`));
    expect(new Set(ids).size, "panel ids are unique").toBe(ids.length);
    for (const { dashboard } of all) {
      for (const p of allPanels(dashboard).filter((p) => p.type !== "row")) expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    const queries = dashboardQueries();
    const using = (re: RegExp) => queries.filter((q) => re.test(q.expr));
    for (const metric of ["grpc_server_handling_seconds", "http_request_duration_seconds"]) {
      for (const quantile of ["0.5", "0.99"]) {
        expect(using(new RegExp(`histogram_quantile\\(${quantile}, .*${metric}_bucket`)), `p${quantile} of ${metric}`).not.toHaveLength(0);
      }
    }
    expect(using(/rate\(grpc_server_handled_total/), "gRPC request rate").not.toHaveLength(0);
    expect(using(/grpc_server_handled_total\{[^}]*grpc_code=~"[^"]*UNAVAILABLE/), "gRPC error rate").not.toHaveLength(0);
    expect(using(/rate\(http_request_duration_seconds_count/), "HTTP request rate").not.toHaveLength(0);
    expect(using(/status_code=~"5\.\."/), "HTTP error rate").not.toHaveLength(0);
    for (const m of ["kafka_consumergroup_lag", "relation_persister_batch_size_bucket", "relation_persister_batch_seconds_bucket", "relation_outbox_entries"]) {
      expect(using(new RegExp(`\\b${m}\\b`)), m).not.toHaveLength(0);
    }
  });

  it("every metric the dashboard and the alert rules query is in the metric contract", () => {
    const rules = (yaml("deploy/prometheus/alerts.yml") as { groups: { rules: { record?: string; alert?: string; expr: string }[] }[] }).groups.flatMap(
      (g) => g.rules,
    );
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    const uses = [
      ...rules.map((r) => ({ where: `alerts.yml ${r.alert ?? r.record}`, expr: r.expr })),
      ...dashboardQueries().map((q) => ({ where: `dashboard ${q.dashboard}: ${q.panel}`, expr: q.expr })),
    ];
    const seen = new Set<string>();
    for (const { where, expr } of uses) {
      const names = promqlMetricNames(expr);
      expect(names.length, `${where}: no metric in ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        const known = recorded.has(name) || contractMetricOf(name) !== undefined;
        expect(known, `${where} queries ${name}, which is not in test/metric-contract.ts`).toBe(true);
        seen.add(contractMetricOf(name) ?? name);
      }
    }
    // Renaming a metric in the contract without the queries fails here too.
    expect(promqlMetricNames('sum(rate(grpc_server_handeld_total{job="x"}[5m]))').map(contractMetricOf)).toEqual([undefined]);
    expect(seen.size).toBeGreaterThanOrEqual(15);
  });

  it("every metric of the contract that the suite exports is registered by its code under that name", () => {
    const sources = suiteSources();
    const suiteMetrics = Object.entries(METRIC_CONTRACT)
      .filter(([, m]) => m.source === "suite")
      .map(([name]) => name);
    expect(suiteMetrics.length).toBeGreaterThan(15);
    for (const name of suiteMetrics) {
      const where = sources.filter((s) => s.text.includes(`"${name}"`)).map((s) => path.relative(ROOT, s.file));
      expect(where, `no source file names the metric ${name}`).not.toHaveLength(0);
    }
  });
});

const composeCli = spawnSync("docker", ["compose", "version"], { encoding: "utf8" });
const haveComposeCli = composeCli.status === 0;
if (!haveComposeCli) console.info("skipping `docker compose config -q`: the docker CLI with the compose plugin is not installed here");

describe.skipIf(!haveComposeCli)("docker compose CLI", () => {
  const run = (envFileBody: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-compose-"));
    const envFile = path.join(dir, ".env");
    fs.writeFileSync(envFile, envFileBody);
    const childEnv = { ...process.env };
    for (const k of Object.keys(TEST_SECRETS)) delete childEnv[k];
    const r = spawnSync("docker", ["compose", "--env-file", envFile, "-f", COMPOSE_FILE, "config", "-q"], { cwd: ROOT, env: childEnv, encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    return r;
  };

  it("`docker compose config -q` accepts the file when the secrets are set", () => {
    const r = run(
      Object.entries(TEST_SECRETS)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n") + "\n",
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("`docker compose config -q` refuses it when a secret is missing, naming it", () => {
    const r = run(`MYSQL_PASSWORD=${TEST_SECRETS.MYSQL_PASSWORD}\nMYSQL_ROOT_PASSWORD=${TEST_SECRETS.MYSQL_ROOT_PASSWORD}\n`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/JWT_SECRET/);
  });
});

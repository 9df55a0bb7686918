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
import { APPS } from "../deploy/stack/apps.js";
import { MYSQL_USER, SHARD_DATABASES, TOPICS } from "../deploy/stack/settings.js";
import { VIRTUAL_SHARDS_DEFAULT, loadConfig } from "../pkg/config/src/index.js";
import {
  COMPOSE_FILE, ROOT, argv, composeSchemaValidator, dependencies, interpolate, loadComposeFiles, mergeServices, rawEnvironment,
  type ComposeService,
} from "./compose-model.js";
import { configSchemaOf, readmePorts, requiredKeys } from "./process-contracts.js";

/** Stand-ins for the secrets a deployment puts in .env. */
const TEST_SECRETS = { JWT_SECRET: "t".repeat(48), MYSQL_PASSWORD: "test-db-password", MYSQL_ROOT_PASSWORD: "test-root-password" };
const ONE_SHOTS = ["migrate", "kafka-init"] as const;
const INFRA = ["mysql", "redis", "kafka", "etcd"] as const;
const OBSERVABILITY = ["jaeger", "prometheus"] as const;

const files = loadComposeFiles();
const services = mergeServices(files);
const service = (name: string): ComposeService => {
  const svc = services[name];
  if (!svc) throw new Error(`docker-compose.yml has no service ${name}`);
  return svc;
};
const env = (name: string) =>
  Object.fromEntries(Object.entries(rawEnvironment(service(name))).map(([k, v]) => [k, interpolate(v, TEST_SECRETS)]));
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), "utf8");


describe("docker-compose.yml: files and schema", () => {
  it("is split into the infrastructure, observability and application layers", () => {
    expect(files.map((f) => path.relative(ROOT, f.file))).toEqual([
      "docker-compose.yml", "deploy/docker/compose.infra.yml", "deploy/docker/compose.observability.yml",
    ]);
    for (const s of INFRA) expect(services[s]?.definedIn).toMatch(/compose\.infra\.yml$/);
    for (const s of OBSERVABILITY) expect(services[s]?.definedIn).toMatch(/compose\.observability\.yml$/);
    for (const s of [...APPS.map((a) => a.name), "migrate"]) expect(services[s]?.definedIn).toBe(COMPOSE_FILE);
    expect(Object.keys(services).sort()).toEqual([...INFRA, ...OBSERVABILITY, ...ONE_SHOTS, ...APPS.map((a) => a.name)].sort());
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
    expect(longRunning).toHaveLength(INFRA.length + OBSERVABILITY.length + APPS.length);
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
    expect(e.SERVICE_HOST).toBe(name);
  });

  it("listens on the README's ports and publishes them under the README's variables", () => {
    const readme = readmePorts();
    for (const [name, { port, variable }] of Object.entries(readme.listen)) {
      const e = env(name);
      expect(Number(e[name === "gateway" ? "HTTP_PORT" : "GRPC_PORT"]), name).toBe(port);
      const published = (service(name).ports ?? []).map(String);
      expect(published, name).toHaveLength(1);
      expect(published[0], name).toMatch(new RegExp(`^(127\\.0\\.0\\.1:)?\\$\\{${variable}:-${port}\\}:${port}$`));
    }
    const admin = APPS.map((a) => Number(env(a.name).ADMIN_PORT)).sort((a, b) => a - b);
    const range = Array.from({ length: readme.admin.to - readme.admin.from + 1 }, (_, i) => readme.admin.from + i);
    expect(admin).toEqual(range);
    for (const app of APPS) {
      if (process.env[app.admin.variable] === undefined) expect(Number(env(app.name).ADMIN_PORT), app.name).toBe(app.admin.port);
    }
  });

  it("Prometheus scrapes every process on its admin port", async () => {
    const { parse } = await import("yaml");
    const cfg = parse(read("deploy/prometheus/prometheus.yml")) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    expect(service("prometheus").volumes).toContain("../prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
    for (const app of APPS) {
      const job = cfg.scrape_configs.find((j) => j.job_name === app.name);
      expect(job?.dns_sd_configs, app.name).toEqual([{ names: [app.name], type: "A", port: Number(env(app.name).ADMIN_PORT) }]);
    }
  });
});

describe("docker-compose.yml: the local stack's settings", () => {
  it("two shard DSNs on the mysql service, 64 virtual shards, databases made by the init SQL", () => {
    for (const name of ["migrate", "user", "count", "relation", "relation-persister", "count-consumer", "user-consumer"]) {
      const dsns = env(name).MYSQL_SHARD_DSNS!.split(",").map((d) => new URL(d));
      expect(dsns.map((u) => u.pathname.slice(1)), name).toEqual([...SHARD_DATABASES]);
      for (const u of dsns) expect([u.protocol, u.hostname, u.port, u.username, u.password]).toEqual(["mysql:", "mysql", "3306", MYSQL_USER, TEST_SECRETS.MYSQL_PASSWORD]);
      expect(Number(env(name).MYSQL_VIRTUAL_SHARDS), name).toBe(VIRTUAL_SHARDS_DEFAULT);
    }
    expect(service("mysql").image).toMatch(/^mysql:8(\.|$)/);
    expect(env("mysql").MYSQL_USER).toBe(MYSQL_USER);
    expect(service("mysql").volumes).toContain("./mysql-init:/docker-entrypoint-initdb.d:ro");
    const sql = fs.readdirSync(path.join(ROOT, "deploy/docker/mysql-init")).map((f) => read(`deploy/docker/mysql-init/${f}`)).join("\n");
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
    for (const name of [...INFRA, ...OBSERVABILITY, "kafka-init"]) expect(service(name).image, name).toMatch(/:[^:]*\d[^:]*$/);
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

describe("deploy/docker: the image", () => {
  const dockerfile = read("deploy/docker/Dockerfile");

  it("one multi-stage image on node:20-bookworm-slim, pnpm from packageManager, frozen install, non-root", () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/packageManager/);
    expect(JSON.parse(read("package.json")).packageManager).toMatch(/^pnpm@\d+\.\d+\.\d+/);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(runtime).toMatch(/^USER (?!root\b|0\b)\S+$/m);
    expect(runtime).toMatch(/^CMD \["node", "--import", "tsx"/m);
  });

  it(".dockerignore keeps machine-local and secret files out of the build context", () => {
    const ignored = read(".dockerignore").split("\n").map((l) => l.trim());
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
    const r = run(Object.entries(TEST_SECRETS).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("`docker compose config -q` refuses it when a secret is missing, naming it", () => {
    const r = run(`MYSQL_PASSWORD=${TEST_SECRETS.MYSQL_PASSWORD}\nMYSQL_ROOT_PASSWORD=${TEST_SECRETS.MYSQL_ROOT_PASSWORD}\n`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/JWT_SECRET/);
  });
});

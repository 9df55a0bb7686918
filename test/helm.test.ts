/**
 * deploy/helm/relation-suite: `helm lint`, `helm template` with each values file
 * of deploy/helm, every rendered object valid against the Kubernetes API schemas
 * of KUBE_VERSION (kubernetes-validate, strict: unknown fields are errors), and
 * the chart's own rules: each process gets exactly the settings its config
 * schema accepts, probes on the admin port, resources, a PDB, a grace period
 * longer than its stop, secrets only in Secrets, HPAs only for the stateless
 * services, SERVICE_HOST from the pod IP. No cluster is needed.
 *
 * helm and kubernetes-validate come from deploy/bootstrap.sh (install_chart_tools,
 * run by `./dev.sh test`); without them this file skips and says why.
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { APPS } from "../deploy/stack/apps.js";
import { ROOT } from "../deploy/stack/settings.js";
import { loadConfig } from "../pkg/config/src/index.js";
import { configSchemaOf } from "./process-contracts.js";

/** The Kubernetes version the rendered objects are validated against (and rendered for). */
const KUBE_VERSION = "1.31.0";
const CHART = path.join(ROOT, "deploy/helm/relation-suite");
const VALUES = { small: path.join(ROOT, "deploy/helm/values-small.yaml"), large: path.join(ROOT, "deploy/helm/values-large.yaml") };
const STATELESS = ["gateway", "user", "count", "relation"];
const CONSUMERS = ["relation-persister", "count-consumer", "user-consumer"];
/** Settings a process gets that are not in its config schema: read by Node and the OpenTelemetry SDK. */
const RUNTIME_KEYS = new Set(["NODE_ENV", "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"]);
const SECRET_KEY = /SECRET|PASSWORD|PRIVATE_KEY|DSN|TOKEN$|REDIS_URL/;
const POD_IP = "10.1.2.3";

function findTool(candidates: string[], onPath: string): string | undefined {
  const found = candidates.map((c) => path.join(ROOT, c)).find((c) => fs.existsSync(c));
  if (found) return found;
  const r = spawnSync("sh", ["-c", `command -v ${onPath}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
const HELM = process.env.HELM ?? findTool([".data/bin/helm"], "helm");
const VALIDATOR = findTool([".data/venv/kubernetes-validate/bin/kubernetes-validate"], "kubernetes-validate");
const missing = !HELM ? "helm is not installed" : !VALIDATOR ? "kubernetes-validate is not installed" : undefined;
if (missing) console.warn(`test/helm.test.ts skipped: ${missing} (bash -c 'source deploy/bootstrap.sh; install_chart_tools' installs it)`);

/** Stand-ins for what an operator passes at install; none of it may reach a ConfigMap or a literal env value. */
const SMALL_SECRETS = {
  jwtSecret: "jwt-secret-stand-in-".padEnd(48, "x"),
  dbPassword: "db-password-stand-in",
  redisPassword: "redis-password-stand-in",
};
const SMALL_DSNS = [0, 1].map((i) => `mysql://rs:${SMALL_SECRETS.dbPassword}@mysql:3306/rs_shard_${i}`);
const SMALL_REDIS = `redis://default:${SMALL_SECRETS.redisPassword}@redis:6379`;
/** The small install's secrets but Redis, which each test names (redis.url or redis.cluster.nodes). */
const SMALL_SET_BUT_REDIS = ["--set-string", `secrets.jwtSecret=${SMALL_SECRETS.jwtSecret}`, "--set", `mysql.shardDsns={${SMALL_DSNS.join(",")}}`];
const SMALL_SET = [...SMALL_SET_BUT_REDIS, "--set-string", `redis.url=${SMALL_REDIS}`];
/** What the operator's Secret of values-large.yaml (existingSecret, RS256, four shards) holds. */
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const LARGE_SECRET: Record<string, string> = {
  MYSQL_SHARD_DSNS: [0, 1, 2, 3].map((i) => `mysql://rs:${SMALL_SECRETS.dbPassword}@mysql-${i}:3306/rs_shard_${i}`).join(","),
  REDIS_URL: SMALL_REDIS,
  JWT_PRIVATE_KEY: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  JWT_PUBLIC_KEY: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
};
const ARGS = { small: ["-f", VALUES.small, ...SMALL_SET], large: ["-f", VALUES.large] };

// Rendered objects are walked by path; their shapes are what the schema validator checks.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Loose;
  data?: Record<string, string>;
};
type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } } };

function helm(args: string[]) {
  return spawnSync(HELM!, args, { encoding: "utf8", cwd: ROOT });
}
function render(extra: string[]): Obj[] {
  const r = helm(["template", "rs", CHART, "--namespace", "social", "--kube-version", KUBE_VERSION, ...extra]);
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML: ${d.errors[0]!.message}`);
      return d.toJS() as Obj | null;
    })
    .filter((o): o is Obj => o !== null);
}
function renderError(extra: string[]): string {
  const r = helm(["template", "rs", CHART, "--kube-version", KUBE_VERSION, ...extra]);
  expect(r.status, "helm template should have refused these values").not.toBe(0);
  return r.stderr;
}
const ofKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const named = (objs: Obj[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
};
const processOf = (o: Obj) => o.metadata.labels?.["app.kubernetes.io/name"] ?? "";
const containerOf = (d: Obj) => d.spec.template.spec.containers[0] as { env: EnvVar[]; envFrom: { configMapRef: { name: string } }[]; [k: string]: Loose };
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The environment a pod of this Deployment starts with: its ConfigMaps, literal values, the Secret's keys and the pod IP. */
function podEnv(objs: Obj[], d: Obj, secret: Record<string, string>): Record<string, string> {
  const c = containerOf(d);
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) Object.assign(env, named(objs, "ConfigMap", from.configMapRef.name).data);
  for (const e of c.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === "status.podIP") env[e.name] = POD_IP;
    else if (e.valueFrom?.secretKeyRef) {
      const v = secret[e.valueFrom.secretKeyRef.key];
      if (v === undefined) throw new Error(`${d.metadata.name}: the Secret has no key ${e.valueFrom.secretKeyRef.key}`);
      env[e.name] = v;
    } else throw new Error(`${d.metadata.name}: env ${e.name} has an unknown source`);
  }
  return env;
}
const decode = (s: Obj) => Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));

/** runMain's own deadline for a graceful stop (pkg/runtime/src/run-main.ts). */
function runMainDeadlineSeconds(): number {
  const m = fs.readFileSync(path.join(ROOT, "pkg/runtime/src/run-main.ts"), "utf8").match(/SHUTDOWN_DEADLINE_MS = ([\d_]+)/);
  if (!m) throw new Error("run-main.ts has no SHUTDOWN_DEADLINE_MS");
  return Number(m[1]!.replaceAll("_", "")) / 1000;
}

/** Runs kubernetes-validate on the objects; returns its exit code and output lines. */
function validate(objs: Obj[]): { status: number | null; lines: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-helm-"));
  const file = path.join(dir, "objects.yaml");
  fs.writeFileSync(file, objs.map((o) => stringify(o)).join("---\n"));
  const r = spawnSync(VALIDATOR!, ["--strict", "--kubernetes-version", KUBE_VERSION, file], { encoding: "utf8" });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim().length > 0) };
}

describe.skipIf(missing !== undefined)("Helm chart deploy/helm/relation-suite", () => {
  const rendered = missing ? { small: [], large: [] } : { small: render(ARGS.small), large: render(ARGS.large) };
  const secretOf = { small: () => decode(named(rendered.small, "Secret", "rs-relation-suite-secrets")), large: () => LARGE_SECRET };
  const variants = ["small", "large"] as const;

  it.each(variants)("helm lint --strict passes with values-%s.yaml", (v) => {
    const r = helm(["lint", "--strict", CHART, ...ARGS[v]]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it.each(variants)(
    `every object of values-%s.yaml is valid against the Kubernetes ${KUBE_VERSION} schemas (strict)`,
    (v) => {
      // The Prometheus Operator's ServiceMonitor is a CRD, not in the API schemas: checked by its own test below.
      const objs = rendered[v].filter((o) => o.kind !== "ServiceMonitor");
      const { status, lines } = validate(objs);
      expect(status, lines.join("\n")).toBe(0);
      expect(
        lines.filter((l) => !l.startsWith("INFO")),
        "errors or warnings (a WARN is an object without a schema)",
      ).toEqual([]);
      for (const o of objs)
        expect(
          lines.some((l) => l.includes(`${o.kind.toLowerCase()}/${o.metadata.name} against version`)),
          `${o.kind} ${o.metadata.name} validated`,
        ).toBe(true);
      expect(lines.length).toBe(objs.length);
    },
    60_000,
  );

  it("the validator does reject an unknown field and a wrong type (strict mode works)", () => {
    const d = structuredClone(named(rendered.small, "Deployment", "rs-relation-suite-relation"));
    d.spec.template.spec.containers[0].readinesProbe = d.spec.template.spec.containers[0].readinessProbe;
    const pdb = structuredClone(named(rendered.small, "PodDisruptionBudget", "rs-relation-suite-relation"));
    pdb.spec.selector = "app=relation";
    const { status, lines } = validate([d, pdb]);
    expect(status).not.toBe(0);
    expect(lines.filter((l) => l.startsWith("ERROR"))).toHaveLength(2);
  }, 60_000);

  it.each(variants)("values-%s.yaml: one Deployment per process of the suite, running its entry of deploy/stack/apps.ts", (v) => {
    const deployments = ofKind(rendered[v], "Deployment");
    expect(deployments.map(processOf).sort()).toEqual(APPS.map((a) => a.name).sort());
    for (const app of APPS) {
      const c = containerOf(named(rendered[v], "Deployment", `rs-relation-suite-${app.name}`));
      expect(c.command.at(-1)).toBe(app.entry);
      expect(fs.existsSync(path.join(ROOT, app.entry))).toBe(true);
      expect(c.command.slice(0, 5)).toEqual(["node", "--import", "tsx", "--import", "./pkg/telemetry/src/register.ts"]);
    }
  });

  it.each(variants)("values-%s.yaml: each pod's environment passes its process's config schema, with no setting the schema does not read", async (v) => {
    for (const d of ofKind(rendered[v], "Deployment")) {
      const app = processOf(d);
      const env = podEnv(rendered[v], d, secretOf[v]());
      const schema = await configSchemaOf(app);
      expect(() => loadConfig(schema, env), `${app}'s environment`).not.toThrow();
      const known = new Set(Object.keys(schema.shape));
      expect(
        Object.keys(env).filter((k) => !known.has(k) && !RUNTIME_KEYS.has(k)),
        `settings ${app} does not read`,
      ).toEqual([]);
      expect(env.OTEL_SERVICE_NAME).toBe(app);
    }
  });

  it.each(variants)("values-%s.yaml: readiness on /readyz and liveness on /healthz of the admin port, which is ADMIN_PORT", (v) => {
    for (const d of ofKind(rendered[v], "Deployment")) {
      const c = containerOf(d);
      const admin = c.ports.find((p: { name: string }) => p.name === "admin");
      expect(admin, d.metadata.name).toBeDefined();
      expect(c.env.find((e) => e.name === "ADMIN_PORT")?.value).toBe(String(admin.containerPort));
      expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "admin" });
      expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "admin" });
      expect(c.startupProbe.httpGet).toEqual({ path: "/healthz", port: "admin" });
    }
  });

  it.each(variants)("values-%s.yaml: every container has CPU and memory requests and limits", (v) => {
    const pods = [...ofKind(rendered[v], "Deployment"), ...ofKind(rendered[v], "Job")];
    for (const o of pods) {
      const r = o.spec.template.spec.containers[0].resources;
      for (const k of ["requests", "limits"]) for (const res of ["cpu", "memory"]) expect(r?.[k]?.[res], `${o.metadata.name} ${k}.${res}`).toBeDefined();
    }
  });

  it.each(variants)("values-%s.yaml: every Deployment has a PodDisruptionBudget selecting its pods", (v) => {
    for (const d of ofKind(rendered[v], "Deployment")) {
      const labels = d.spec.template.metadata.labels as Record<string, string>;
      const pdbs = ofKind(rendered[v], "PodDisruptionBudget").filter((p) => matches(p.spec.selector.matchLabels, labels));
      expect(pdbs, d.metadata.name).toHaveLength(1);
      expect(matches(d.spec.selector.matchLabels, labels)).toBe(true);
    }
  });

  it.each(variants)(
    "values-%s.yaml: the grace period covers the preStop sleep plus the process's whole stop (SHUTDOWN_TIMEOUT_MS, Kafka flush, runMain's deadline)",
    (v) => {
      const deadline = runMainDeadlineSeconds();
      for (const d of ofKind(rendered[v], "Deployment")) {
        const pod = d.spec.template.spec;
        const c = containerOf(d);
        const sleep = c.lifecycle.preStop.exec.command;
        expect(sleep[0]).toBe("sleep");
        const preStop = Number(sleep[1]);
        expect(preStop).toBeGreaterThan(0);
        const shutdownMs = Number(podEnv(rendered[v], d, secretOf[v]()).SHUTDOWN_TIMEOUT_MS ?? 10_000);
        expect(pod.terminationGracePeriodSeconds, d.metadata.name).toBeGreaterThan(preStop + deadline);
        expect(pod.terminationGracePeriodSeconds, d.metadata.name).toBeGreaterThan(preStop + shutdownMs / 1000 + 5);
      }
    },
  );

  it.each(variants)("values-%s.yaml: secrets are only in Secrets, reached by secretKeyRef, never in a ConfigMap or a literal value", (v) => {
    const secretValues = v === "small" ? [SMALL_SECRETS.jwtSecret, SMALL_SECRETS.dbPassword, SMALL_SECRETS.redisPassword] : [];
    for (const cm of ofKind(rendered[v], "ConfigMap")) {
      for (const [k, val] of Object.entries(cm.data ?? {})) {
        expect(k, `${cm.metadata.name}`).not.toMatch(SECRET_KEY);
        for (const s of secretValues) expect(val).not.toContain(s);
      }
    }
    for (const o of [...ofKind(rendered[v], "Deployment"), ...ofKind(rendered[v], "Job")]) {
      for (const e of containerOf(o).env as EnvVar[]) {
        if (SECRET_KEY.test(e.name)) expect(e.valueFrom?.secretKeyRef?.key, `${o.metadata.name} ${e.name}`).toBe(e.name);
        for (const s of secretValues) expect(e.value ?? "").not.toContain(s);
      }
    }
    const text = stringify(rendered[v].filter((o) => o.kind !== "Secret"));
    for (const s of secretValues) expect(text).not.toContain(s);
    if (v === "large") {
      expect(ofKind(rendered.large, "Secret"), "existingSecret: the chart renders no Secret").toEqual([]);
      const refs = ofKind(rendered.large, "Deployment").flatMap((d) =>
        containerOf(d).env.flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : [])),
      );
      expect(new Set(refs)).toEqual(new Set(["relation-suite-secrets"]));
    }
  });

  it.each(variants)("values-%s.yaml: SERVICE_HOST comes from the pod IP, so each replica registers its own address in etcd", (v) => {
    for (const d of ofKind(rendered[v], "Deployment")) {
      expect(containerOf(d).env.find((e) => e.name === "SERVICE_HOST")?.valueFrom?.fieldRef?.fieldPath, d.metadata.name).toBe("status.podIP");
    }
  });

  it.each(variants)("values-%s.yaml: non-root, read-only root filesystem with /tmp writable, no privilege escalation, no API token", (v) => {
    for (const o of [...ofKind(rendered[v], "Deployment"), ...ofKind(rendered[v], "Job")]) {
      const pod = o.spec.template.spec;
      const c = pod.containers[0];
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
      const tmp = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/tmp");
      expect(pod.volumes.find((vol: { name: string }) => vol.name === tmp.name)?.emptyDir).toBeDefined();
    }
  });

  it("HPAs target only the stateless services (the consumers scale by partitions); a Deployment under an HPA sets no replicas", () => {
    expect(ofKind(rendered.small, "HorizontalPodAutoscaler")).toEqual([]);
    const hpas = ofKind(rendered.large, "HorizontalPodAutoscaler");
    expect(hpas.map(processOf).sort()).toEqual([...STATELESS].sort());
    for (const h of hpas) {
      const d = named(rendered.large, "Deployment", h.spec.scaleTargetRef.name);
      expect(STATELESS).toContain(processOf(d));
      expect(d.spec.replicas).toBeUndefined();
      expect(h.spec.minReplicas).toBeGreaterThan(1);
    }
  });

  it("the values files render different replica counts; no consumer has more replicas than partitions", () => {
    const replicas = (objs: Obj[], app: string) => {
      const d = named(objs, "Deployment", `rs-relation-suite-${app}`);
      const h = ofKind(objs, "HorizontalPodAutoscaler").find((x) => x.spec.scaleTargetRef.name === d.metadata.name);
      return h ? h.spec.minReplicas : d.spec.replicas;
    };
    for (const app of APPS.map((a) => a.name)) {
      expect(replicas(rendered.small, app), app).toBe(1);
      expect(replicas(rendered.large, app), app).toBeGreaterThan(1);
    }
    const partitions = (parseAllDocuments(fs.readFileSync(VALUES.large, "utf8"))[0]!.toJS() as { kafka: { partitions: number } }).kafka.partitions;
    for (const app of CONSUMERS) expect(replicas(rendered.large, app)).toBeLessThanOrEqual(partitions);
  });

  it("the migration runs first, as a pre-install/pre-upgrade hook Job with the DSNs from a Secret that exists by then", () => {
    for (const v of variants) {
      const job = named(rendered[v], "Job", "rs-relation-suite-migrate");
      expect(job.metadata.annotations?.["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
      const c = containerOf(job);
      expect(c.command.at(-1)).toBe("deploy/stack/migrate-cli.ts");
      const ref = c.env.find((e) => e.name === "MYSQL_SHARD_DSNS")?.valueFrom?.secretKeyRef;
      if (v === "large") expect(ref?.name).toBe("relation-suite-secrets");
      else {
        const s = named(rendered.small, "Secret", ref!.name);
        expect(s.metadata.annotations?.["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
        expect(Number(s.metadata.annotations?.["helm.sh/hook-weight"])).toBeLessThan(Number(job.metadata.annotations?.["helm.sh/hook-weight"]));
        expect(decode(s).MYSQL_SHARD_DSNS).toBe(SMALL_DSNS.join(","));
      }
    }
  });

  it.each(variants)("values-%s.yaml: a Service per process selecting its pods; the gateway's serves HTTP, the gRPC services' their gRPC port", (v) => {
    for (const d of ofKind(rendered[v], "Deployment")) {
      const app = processOf(d);
      const svc = named(rendered[v], "Service", d.metadata.name);
      expect(matches(svc.spec.selector, d.spec.template.metadata.labels)).toBe(true);
      const names = svc.spec.ports.map((p: { name: string }) => p.name);
      expect(names).toContain("admin");
      if (app === "gateway") expect(names).toContain("http");
      else if (STATELESS.includes(app)) expect(names).toContain("grpc");
      else expect(svc.spec.clusterIP).toBe("None");
    }
  });

  it("values-large.yaml: the ServiceMonitor scrapes /metrics on the admin port of every process's Service; values-small.yaml uses pod annotations", () => {
    expect(ofKind(rendered.small, "ServiceMonitor")).toEqual([]);
    for (const d of ofKind(rendered.small, "Deployment")) expect(d.spec.template.metadata.annotations["prometheus.io/scrape"]).toBe("true");
    const [sm, ...more] = ofKind(rendered.large, "ServiceMonitor");
    expect(more).toEqual([]);
    expect(sm!.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(sm!.spec.endpoints).toEqual([expect.objectContaining({ port: "admin", path: "/metrics" })]);
    const selected = ofKind(rendered.large, "Service").filter((s) => matches(sm!.spec.selector.matchLabels, s.metadata.labels ?? {}));
    expect(selected.map(processOf).sort()).toEqual(APPS.map((a) => a.name).sort());
  });

  it("Redis as a cluster (redis.cluster.nodes): every process that uses Redis gets REDIS_URL=redis-cluster://<nodes> from the Secret, which its config schema accepts", async () => {
    const nodes = ["redis-0.redis:6379", "redis-1.redis:6379", "redis-2.redis:6379"];
    const small = ["-f", VALUES.small, ...SMALL_SET_BUT_REDIS];
    const objs = render([...small, "--set", `redis.cluster.nodes={${nodes.join(",")}}`]);
    const secret = decode(named(objs, "Secret", "rs-relation-suite-secrets"));
    expect(secret.REDIS_URL).toBe(`redis-cluster://${nodes.join(",")}`);
    const withRedis = ofKind(objs, "Deployment").filter((d) => containerOf(d).env.some((e) => e.name === "REDIS_URL"));
    expect(withRedis.map(processOf).sort()).toEqual(APPS.map((a) => a.name).sort());
    for (const d of withRedis) {
      const env = podEnv(objs, d, secret);
      expect(env.REDIS_URL, processOf(d)).toBe(`redis-cluster://${nodes.join(",")}`);
      const schema = await configSchemaOf(processOf(d));
      expect(() => loadConfig(schema, env), `${processOf(d)}'s environment`).not.toThrow();
    }
    expect(renderError([...ARGS.small, "--set", `redis.cluster.nodes={${nodes[0]}}`])).toMatch(/redis\.url and redis\.cluster\.nodes are both set/);
    expect(renderError([...small, "--set", "redis.cluster.nodes={redis-0}"])).toMatch(/"redis-0" is not host:port/);
    expect(renderError([...ARGS.large, "--set", `redis.cluster.nodes={${nodes[0]}}`])).toMatch(/existingSecret is set/);
  });

  it("refuses values that break the rules, naming the reason", () => {
    expect(renderError([...ARGS.small, "--set-string", "config.MYSQL_PASSWORD=x"])).toMatch(/config\.MYSQL_PASSWORD looks like a secret/);
    expect(renderError([...ARGS.small, "--set-string", "gateway.env.JWT_SECRET=x"])).toMatch(/gateway\.env\.JWT_SECRET looks like a secret/);
    expect(renderError([...ARGS.small, "--set", "countConsumer.replicas=9"])).toMatch(/countConsumer\.replicas \(9\) exceeds kafka\.partitions \(8\)/);
    expect(renderError([...ARGS.small, "--set", "userConsumer.autoscaling.enabled=true"])).toMatch(/scale by partitions/);
    expect(renderError([...ARGS.small, "--set", "termination.gracePeriodSeconds=30"])).toMatch(/gracePeriodSeconds \(30\) must exceed 30/);
    expect(renderError([...ARGS.small, "--set-string", "config.SHUTDOWN_TIMEOUT_MS=40000"])).toMatch(/must exceed 50/);
    expect(renderError(["-f", VALUES.small])).toMatch(/mysql\.shardDsns/);
    expect(renderError([...ARGS.small, "--set-string", "secrets.jwtSecret=short"])).toMatch(/at least 32 characters/);
    expect(renderError([...ARGS.large, "--set-string", "redis.url=redis://r:6379"])).toMatch(/existingSecret is set/);
  });
});

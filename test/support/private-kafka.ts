/**
 * A private single-node Kafka broker (KRaft) on free ports with a temp data
 * dir, for tests that must stop and restart the broker without touching the
 * shared one. Same properties as the local stack's (deploy/stack/infra.ts).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const KAFKA_HOME = path.join(ROOT, "deploy", "kafka");
const CLASSPATH = path.join(KAFKA_HOME, "libs", "*");
const LOG4J = `-Dlog4j.configuration=file:${path.join(KAFKA_HOME, "log4j.properties")}`;
const START_TIMEOUT_MS = 90_000;
const POLL_MS = 200;
const HEAP = "-Xmx384m";

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export interface PrivateKafka {
  readonly brokers: string[];
  /** Starts (or restarts) the broker and waits until it listens. */
  start(): Promise<void>;
  /** Kills the broker (SIGKILL: a crash, and quick). */
  stop(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/** Formats a private broker's storage; `start()` then runs it. */
export async function privateKafka(): Promise<PrivateKafka> {
  const [port, controller] = [await freePort(), await freePort()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-relation-kafka-"));
  const props = path.join(dir, "server.properties");
  fs.writeFileSync(
    props,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      `log.dirs=${path.join(dir, "logs")}`,
      "num.partitions=8",
      "auto.create.topics.enable=false",
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=8",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      // a restart after a kill waits for the old registration to lapse: keep that short
      "broker.session.timeout.ms=2000",
      "broker.heartbeat.interval.ms=500",
    ].join("\n") + "\n",
  );
  // passed as --cluster-id=<id>: a base64url id may start with "-", which would read as an option
  const clusterId = randomBytes(16).toString("base64url").slice(0, 22);
  execFileSync("java", ["-cp", CLASSPATH, LOG4J, "kafka.tools.StorageTool", "format", `--cluster-id=${clusterId}`, `--config=${props}`], { stdio: "pipe" });

  let proc: ChildProcess | undefined;
  let output = "";
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGKILL");
    await exited;
    // the port must be free again before a restart binds it
    while (await portOpen(port)) await new Promise((r) => setTimeout(r, POLL_MS));
  };
  return {
    brokers: [`127.0.0.1:${port}`],
    async start() {
      if (proc) return;
      output = "";
      const p = spawn("java", [HEAP, "-XX:+UseG1GC", "-Djava.awt.headless=true", LOG4J, "-cp", CLASSPATH, "kafka.Kafka", props], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      proc = p;
      // never outlive the test process, even if it dies before destroy()
      const reap = () => p.kill("SIGKILL");
      process.once("exit", reap);
      p.once("exit", () => process.off("exit", reap));
      p.stdout!.on("data", (c: Buffer) => (output += c.toString()));
      p.stderr!.on("data", (c: Buffer) => (output += c.toString()));
      const deadline = Date.now() + START_TIMEOUT_MS;
      // "started" is logged once the broker serves its listeners
      while (!/Kafka Server started|\[BrokerServer id=1\] Transition from STARTING to STARTED/.test(output)) {
        if (p.exitCode !== null) throw new Error(`private kafka exited (${p.exitCode}): ${output.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`private kafka did not start: ${output.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
    stop,
    async destroy() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

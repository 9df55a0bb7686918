/**
 * startGrpcServer and unary(): a real server on 127.0.0.1:0, called for real.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { invalidArgument } from "@rs/errors";
import { startGrpcServer, unary, type GrpcServerHandle } from "@rs/grpc";
import { echoV1, protoFiles } from "@rs/idl";
import { metricsRegistry } from "@rs/runtime";
import { captureLogger } from "./support/capture-logger.js";
import { healthCheck, reflect } from "./support/grpc-probes.js";
import { registrySamples, sampleSum } from "../../../test/support/prometheus-text.js";

const SECRET = "SELECT * FROM users -- at db-host-7";
const captured = captureLogger();

/** The handler's behaviour is chosen by the request message. */
const echo = unary<echoV1.EchoRequest, echoV1.EchoResponse>(async (req, call) => {
  switch (req.message) {
    case "invalid":
      throw invalidArgument("message is not acceptable");
    case "boom":
      throw new Error(SECRET);
    case "slow":
      await sleep(300);
      return { message: "slow done", instance: "t" };
    case "very-slow":
      await sleep(5_000);
      return { message: "very slow done", instance: "t" };
    case "metadata":
      return { message: String(call.metadata.get("x-test")[0] ?? ""), instance: "t" };
    default:
      return { message: req.message, instance: "t" };
  }
});

async function startEchoServer(): Promise<GrpcServerHandle> {
  return startGrpcServer({
    name: "test",
    host: "127.0.0.1",
    port: 0,
    services: [{ definition: echoV1.EchoServiceService, implementation: { echo } }],
    reflectionProtoFiles: [protoFiles.echo],
    logger: captured.logger,
  });
}

function call(port: number, message: string, metadata = new Metadata()): Promise<echoV1.EchoResponse> {
  const client = new echoV1.EchoServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise<echoV1.EchoResponse>((resolve, reject) => {
    client.echo({ message }, metadata, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res)));
  }).finally(() => client.close());
}

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable("call should fail"),
    (err: ServiceError) => err,
  );

describe("startGrpcServer", () => {
  let server: GrpcServerHandle;
  let address: string;
  beforeAll(async () => {
    server = await startEchoServer();
    address = `127.0.0.1:${server.port}`;
  });
  afterAll(() => server.shutdown(1_000));

  it("binds a real port and serves the service", async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(await call(server.port, "hello")).toEqual({ message: "hello", instance: "t" });
    expect((await call(server.port, "metadata")).message).toBe("");
    const md = new Metadata();
    md.set("x-test", "carried");
    expect((await call(server.port, "metadata", md)).message).toBe("carried");
  });

  it("keeps the code and message of a thrown StatusError", async () => {
    const err = await rejection(call(server.port, "invalid"));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe("message is not acceptable");
  });

  it("answers INTERNAL with a fixed text for a plain Error, and logs it", async () => {
    const err = await rejection(call(server.port, "boom"));
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe("internal error");
    expect(JSON.stringify({ ...err, message: err.message })).not.toContain("db-host-7");
    const logged = captured.lines().find((l) => l.msg === "unhandled error in gRPC handler");
    expect(logged).toBeDefined();
    expect(JSON.stringify(logged)).toContain("db-host-7");
    expect(logged?.method).toBe("/echo.v1.EchoService/Echo");
  });

  it("counts calls in the grpc_server_* metrics by service, method and code", async () => {
    const method = { grpc_type: "unary", grpc_service: "echo.v1.EchoService", grpc_method: "Echo" };
    const read = async () => {
      const samples = await registrySamples(metricsRegistry);
      const v = (name: string, extra: Record<string, string> = {}) => sampleSum(samples, name, { ...method, ...extra });
      return {
        started: v("grpc_server_started_total"),
        ok: v("grpc_server_handled_total", { grpc_code: "OK" }),
        internal: v("grpc_server_handled_total", { grpc_code: "INTERNAL" }),
        invalid: v("grpc_server_handled_total", { grpc_code: "INVALID_ARGUMENT" }),
        latencyCount: v("grpc_server_handling_seconds_count"),
        received: v("grpc_server_msg_received_total"),
        sent: v("grpc_server_msg_sent_total"),
      };
    };
    const before = await read();
    await call(server.port, "x");
    await rejection(call(server.port, "boom"));
    await rejection(call(server.port, "invalid"));
    const after = await read();
    expect({
      started: after.started - before.started,
      ok: after.ok - before.ok,
      internal: after.internal - before.internal,
      invalid: after.invalid - before.invalid,
      latencyCount: after.latencyCount - before.latencyCount,
      received: after.received - before.received,
      sent: after.sent - before.sent,
    }).toEqual({ started: 3, ok: 1, internal: 1, invalid: 1, latencyCount: 3, received: 3, sent: 1 });
  });

  it("lists the service and health through reflection, with descriptors a client can use", async () => {
    const listed = await reflect(address, { list_services: "*" });
    const names = listed.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names).toEqual(expect.arrayContaining(["echo.v1.EchoService", "grpc.health.v1.Health"]));
    const file = await reflect(address, { file_containing_symbol: "echo.v1.EchoService" });
    expect(file.file_descriptor_response?.file_descriptor_proto.length).toBeGreaterThan(0);
    expect(Buffer.concat(file.file_descriptor_response?.file_descriptor_proto ?? []).toString("latin1")).toContain("EchoService");
  });

  it("answers grpc.health.v1 Check: SERVING, then NOT_SERVING after setServing(false)", async () => {
    expect(await healthCheck(address, "")).toBe("SERVING");
    expect(await healthCheck(address, "echo.v1.EchoService")).toBe("SERVING");
    const unknown = await rejection(healthCheck(address, "no.such.Service"));
    expect(unknown.code).toBe(status.NOT_FOUND);
    server.setServing(false);
    expect(await healthCheck(address, "")).toBe("NOT_SERVING");
    expect(await healthCheck(address, "echo.v1.EchoService")).toBe("NOT_SERVING");
    server.setServing(true);
    expect(await healthCheck(address, "")).toBe("SERVING");
  });
});

describe("shutdown", () => {
  it("lets in-flight calls finish, then refuses new ones", async () => {
    const server = await startEchoServer();
    const inFlight = call(server.port, "slow");
    await sleep(50);
    await server.shutdown(2_000);
    expect((await inFlight).message).toBe("slow done");
    const refused = await rejection(call(server.port, "x"));
    expect(refused.code).toBe(status.UNAVAILABLE);
  });

  it("cuts calls still running at the timeout", async () => {
    const server = await startEchoServer();
    const stuck = rejection(call(server.port, "very-slow"));
    await sleep(50);
    const t0 = Date.now();
    await server.shutdown(200);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect((await stuck).code).not.toBe(status.OK);
  });
});

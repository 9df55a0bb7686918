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

const rejection = (p: Promise<unknown>) => p.then(() => expect.unreachable("call should fail"), (err: ServiceError) => err);

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

  it("records latency by method and code", async () => {
    const count = async (code: string) => {
      const metric = await metricsRegistry.getSingleMetric("grpc_server_handling_seconds")?.get();
      const sample = metric?.values.find(
        (v) =>
          (v as { metricName?: string }).metricName === "grpc_server_handling_seconds_count" &&
          v.labels.method === "echo.v1.EchoService/Echo" &&
          v.labels.code === code,
      );
      return sample?.value ?? 0;
    };
    const before = { ok: await count("OK"), internal: await count("INTERNAL"), invalid: await count("INVALID_ARGUMENT") };
    await call(server.port, "x");
    await rejection(call(server.port, "boom"));
    await rejection(call(server.port, "invalid"));
    expect(await count("OK")).toBe(before.ok + 1);
    expect(await count("INTERNAL")).toBe(before.internal + 1);
    expect(await count("INVALID_ARGUMENT")).toBe(before.invalid + 1);
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

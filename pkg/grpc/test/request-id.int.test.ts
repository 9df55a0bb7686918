/**
 * The request id across gRPC hops, tracing off: a call made inside a request
 * carries its id as `x-request-id` metadata (client interceptor), the server
 * runs the handler inside it, a server calling another service forwards it,
 * and the logger puts it on every line written on the way. Two real servers on
 * 127.0.0.1:0: "front" calls "back" with the balanced client, as relation
 * calls user.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata } from "@grpc/grpc-js";
import { createServiceClient, startGrpcServer, unary, type GrpcServerHandle, type ServiceClient } from "@rs/grpc";
import { echoV1, protoFiles } from "@rs/idl";
import { createLogger, currentRequestIds, withRequestId, type Logger } from "@rs/logger";

const raw: string[] = [];
const logger = createLogger("request-id-test", "debug", { write: (line: string) => void raw.push(line) });
const lines = () => raw.map((l) => JSON.parse(l) as Record<string, unknown>);

/** What the back server saw: the request ids it ran inside. */
const back = (log: Logger) =>
  unary<echoV1.EchoRequest, echoV1.EchoResponse>(async (req) => {
    log.info({ message: req.message }, "back handled");
    return { message: currentRequestIds().join(","), instance: "back" };
  });

let backClient: ServiceClient<echoV1.EchoServiceClient>;
/** The front server forwards to back, as relation forwards to user. */
const front = (log: Logger) =>
  unary<echoV1.EchoRequest, echoV1.EchoResponse>(async (req) => {
    log.info({ message: req.message }, "front handled");
    const res = await backClient.echo({ message: req.message });
    return { message: res.message, instance: "front" };
  });

const servers: GrpcServerHandle[] = [];
let frontClient: ServiceClient<echoV1.EchoServiceClient>;

async function serve(name: string, echo: ReturnType<typeof unary<echoV1.EchoRequest, echoV1.EchoResponse>>): Promise<string> {
  const s = await startGrpcServer({
    name,
    host: "127.0.0.1",
    port: 0,
    services: [{ definition: echoV1.EchoServiceService, implementation: { echo } }],
    reflectionProtoFiles: [protoFiles.echo],
    logger: logger.child({ server: name }),
  });
  servers.push(s);
  return `127.0.0.1:${s.port}`;
}

beforeAll(async () => {
  const backAddress = await serve("back", back(logger.child({ server: "back" })));
  backClient = createServiceClient(echoV1.EchoServiceClient, { target: { address: backAddress }, logger, deadlineMs: 5_000 });
  const frontAddress = await serve("front", front(logger.child({ server: "front" })));
  frontClient = createServiceClient(echoV1.EchoServiceClient, { target: { address: frontAddress }, logger, deadlineMs: 5_000 });
});

afterAll(async () => {
  await Promise.all([frontClient?.close(), backClient?.close()]);
  await Promise.all(servers.map((s) => s.shutdown(1_000)));
});

const linesOf = (message: string) => lines().filter((l) => l.message === message);

describe("x-request-id over gRPC", () => {
  it("goes from the caller's context through front to back; every handler line carries it", async () => {
    const res = await withRequestId("req-grpc-1", () => frontClient.echo({ message: "m1" }));
    expect(res).toEqual({ message: "req-grpc-1", instance: "front" });
    expect(linesOf("m1").map((l) => [l.msg, l.request_id])).toEqual([
      ["front handled", "req-grpc-1"],
      ["back handled", "req-grpc-1"],
    ]);
    // At debug level each server logs one line per answered call, inside the id.
    const rpcLines = lines().filter((l) => l.msg === "rpc" && l.request_id === "req-grpc-1");
    expect(rpcLines.map((l) => [l.server, l.method, l.code])).toEqual([
      ["back", "/echo.v1.EchoService/Echo", "OK"],
      ["front", "/echo.v1.EchoService/Echo", "OK"],
    ]);
  });

  it("a call outside any request carries none, and no id is made up", async () => {
    const res = await frontClient.echo({ message: "m2" });
    expect(res.message).toBe("");
    expect(linesOf("m2")).toHaveLength(2);
    for (const l of linesOf("m2")) expect(l).not.toHaveProperty("request_id");
  });

  it("concurrent requests keep their own ids", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `conc-${i}`);
    const got = await Promise.all(ids.map((id) => withRequestId(id, () => frontClient.echo({ message: `c-${id}` }))));
    expect(got.map((r) => r.message)).toEqual(ids);
    for (const id of ids) expect(linesOf(`c-${id}`).map((l) => l.request_id)).toEqual([id, id]);
  });

  it("metadata the caller set explicitly wins over the context", async () => {
    const md = new Metadata();
    md.set("x-request-id", "explicit-9");
    const res = await withRequestId("ambient-9", () => frontClient.echo({ message: "m3" }, { metadata: md }));
    expect(res.message).toBe("explicit-9");
  });

  it("a malformed incoming id is not taken", async () => {
    const md = new Metadata();
    md.set("x-request-id", "bad id with spaces");
    const res = await frontClient.echo({ message: "m4" }, { metadata: md });
    expect(res.message).toBe("");
  });
});

/**
 * Plain grpc-js clients of the standard services every server exposes:
 * grpc.health.v1 (from grpc-health-check) and reflection v1 (its own proto).
 */
import { createRequire } from "node:module";
import path from "node:path";
import { credentials, loadPackageDefinition, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { service as healthService } from "grpc-health-check";

const requireCjs = createRequire(import.meta.url);
const REFLECTION_PROTO = path.join(path.dirname(requireCjs.resolve("@grpc/reflection/package.json")), "build/proto/grpc/reflection/v1/reflection.proto");

const HealthClient = makeGenericClientConstructor(healthService, "grpc.health.v1.Health");

/** grpc.health.v1.Health/Check; resolves with the status name or rejects with the gRPC error. */
export function healthCheck(address: string, service: string): Promise<string> {
  const client = new HealthClient(address, credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    const unary = client as unknown as {
      Check(req: { service: string }, cb: (err: ServiceError | null, res?: { status: string }) => void): void;
    };
    unary.Check({ service }, (err, res) => (err ? reject(err) : resolve(res?.status ?? "")));
  }).finally(() => client.close());
}

interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One request on the reflection v1 stream (what grpcurl sends first). */
export function reflect(address: string, request: Record<string, string>): Promise<ReflectionResponse> {
  const def = loadSync(REFLECTION_PROTO, { keepCase: true, defaults: true, oneofs: true });
  const pkg = loadPackageDefinition(def) as unknown as {
    grpc: {
      reflection: {
        v1: {
          ServerReflection: new (
            addr: string,
            creds: ReturnType<typeof credentials.createInsecure>,
          ) => {
            ServerReflectionInfo(): NodeJS.ReadWriteStream & { write(m: object): boolean; end(): void; cancel(): void };
            close(): void;
          };
        };
      };
    };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
  return new Promise<ReflectionResponse>((resolve, reject) => {
    const stream = client.ServerReflectionInfo();
    stream.on("data", (res: ReflectionResponse) => {
      resolve(res);
      stream.end();
    });
    stream.on("error", reject);
    stream.write(request);
  }).finally(() => client.close());
}

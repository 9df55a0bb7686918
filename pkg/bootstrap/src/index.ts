/**
 * How a process of the suite comes up and goes down: an rpc process (gRPC
 * server registered in etcd) or a worker (a Kafka consumer), each with the
 * admin server and an ordered graceful shutdown. Entry points stay a few lines.
 */
export { startRpcProcess, type RpcProcessOptions, type RpcProcessSettings, type RpcSetup } from "./rpc-process.js";
export { startWorkerProcess, type WorkerProcessOptions, type WorkerSetup } from "./worker-process.js";
export { openRedis, openShardedMysql } from "./resources.js";
export { resolveServiceHost, SERVICE_HOST_AUTO } from "./service-host.js";
export type { RunningProcess, ProcessContext, ProcessSettings } from "./process-types.js";

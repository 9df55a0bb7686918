/**
 * Service discovery on etcd: each rpc instance registers
 * `/services/<service>/<instanceId>` under a lease it keeps alive (and
 * re-creates after losing it); clients watch the prefix and keep the last
 * known list while etcd is unreachable.
 */
export { createEtcd, type EtcdClientOptions } from "./etcd-client.js";
export { registerInstance, type RegisterOptions, type Registration } from "./registration.js";
export { watchService, type ServiceWatcher, type WatchOptions, RESYNC_GRACE_MS } from "./service-watcher.js";
export { InstanceTable } from "./instance-table.js";
export { type Instance, servicePrefix, instanceKey, encodeInstance, decodeInstance, SERVICES_ROOT } from "./instance.js";
export type { Etcd3 } from "etcd3";

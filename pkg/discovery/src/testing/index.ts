/**
 * Test helpers (imported as `@rs/discovery/testing`, never by production
 * code): a private etcd a test may kill, restart and wipe, and tracking of
 * child processes so none outlives a test run.
 */
export { PrivateEtcd } from "./private-etcd.js";
export { freePort } from "./free-port.js";
export { spawnTracked, stopChild, killAll, track } from "./child-processes.js";

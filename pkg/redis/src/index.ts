/**
 * Redis for the suite: an ioredis client that fails fast while Redis is down
 * (no offline queue, bounded reconnect delay, logged connection events), a
 * `/readyz` check, Lua scripts run by EVALSHA with a NOSCRIPT fallback, and an
 * orderly close.
 */
export {
  createRedis,
  waitForRedisReady,
  closeRedis,
  reconnectDelay,
  parseRedisClusterUrl,
  REDIS_CLUSTER_SCHEME,
  type RedisClient,
  type RedisClientOptions,
  type RedisClusterTarget,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_MAX_RECONNECT_DELAY_MS,
  DEFAULT_CLOSE_TIMEOUT_MS,
  RECONNECT_BASE_DELAY_MS,
} from "./redis-client.js";
export { redisReadiness } from "./redis-readiness.js";
export {
  execAcrossSlots,
  keyOnNode,
  keySlot,
  masterNodes,
  mgetAcrossSlots,
  nodeAddress,
  redisFromUrl,
  refreshTopology,
  type PipelineReply,
} from "./cluster-routing.js";
export { ANY_KEY_COUNT, defineScript, type RedisScript, type ScriptArg } from "./define-script.js";
export type { Cluster, Redis } from "ioredis";

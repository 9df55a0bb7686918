/** The count service (counters behind a bucketed Redis cache) and the count-consumer (count.changed → count store). */
export { startCountService, counterCacheOptions, type CountServiceInternals } from "./count.process.js";
export { startCountConsumer, applyCountChangedBatch, type CountConsumerInternals } from "./consumer.process.js";
export {
  countConfigSchema,
  countConsumerConfigSchema,
  countCacheSettings,
  loadCountConfig,
  loadCountConsumerConfig,
  type CountConfig,
  type CountConsumerConfig,
} from "./config.js";
export { CounterCache, COUNT_CACHE_DEFAULTS, type CounterCacheOptions } from "./adapters/redis/counter-cache.js";
export { USER_ENTITY, FOLLOWING, FOLLOWER, type CounterKey, type CounterChange } from "./domain/counter-key.js";
export { CountersRepository } from "./adapters/mysql/counters.repository.js";
export { CountChangesService } from "./domain/count-changes.service.js";

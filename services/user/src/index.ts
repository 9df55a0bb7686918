/**
 * The user service: accounts (register, login, logout, token verification),
 * profiles with a Redis cache, an existence bloom filter, and the
 * user-consumer that keeps the redundant counters from count.changed.
 */
export {
  userConfigSchema,
  loadUserConfig,
  userConsumerConfigSchema,
  loadUserConsumerConfig,
  type UserConfig,
  type UserConsumerConfig,
  BCRYPT_COST_DEFAULT,
} from "./config.js";
export { usernameRoutingKey } from "./adapters/mysql/username-shard.js";
export { startUserService, type RunningUserService, type UserServiceInternals } from "./user.process.js";
export { startUserConsumer, applyCountChangedBatch, type UserConsumerInternals } from "./consumer.process.js";
export { CountChangesService } from "./domain/count-changes.service.js";
export { UsersRepository } from "./adapters/mysql/users.repository.js";
export { RedisProfileCache } from "./adapters/redis/profile-cache.js";
export { ProfileService, type ProfileBatch } from "./domain/profile.service.js";
export { AccountService, type Session, type TokenClaims } from "./domain/account.service.js";
export { COUNT_NAMES, type CountChange, type CountName, type Profile } from "./domain/profile.js";
export { USERNAME_MIN_CHARS, USERNAME_MAX_CHARS, PASSWORD_MIN_CHARS, PASSWORD_MAX_CHARS } from "./domain/user-input.js";

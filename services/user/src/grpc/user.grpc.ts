/**
 * user.v1.UserService handlers: decode the request, call a use case, encode
 * the answer. Errors are status errors from the use cases; a store that cannot
 * be reached becomes UNAVAILABLE and anything else INTERNAL in `unary`
 * (`@rs/grpc`), like in every service.
 */
import { unary, type ServiceBinding } from "@rs/grpc";
import { userV1 } from "@rs/idl";
import type { AccountService } from "../domain/account.service.js";
import type { Profile } from "../domain/profile.js";
import type { ProfileService } from "../domain/profile.service.js";

/** The app API's numeric fields this suite has no data for answer 0. */
const NOT_TRACKED = 0;

/** A profile as user.v1.User. */
export function toUserMessage(p: Profile): userV1.User {
  return {
    id: p.id,
    name: p.name,
    avatar: p.avatar,
    backgroundImage: p.backgroundImage,
    signature: p.signature,
    followCount: p.followCount,
    followerCount: p.followerCount,
    totalFavorited: NOT_TRACKED,
    workCount: NOT_TRACKED,
    favoriteCount: NOT_TRACKED,
  };
}

/** A use case as a unary handler (errors become statuses in `unary`). */
function handle<Req, Res>(fn: (req: Req) => Promise<Res>) {
  return unary<Req, Res>((req) => fn(req));
}

/** The service binding for the gRPC server. */
export function userServiceBinding(accounts: AccountService, profiles: ProfileService): ServiceBinding {
  const implementation: userV1.UserServiceServer = {
    register: handle(async (req: userV1.RegisterRequest) => accounts.register(req.username, req.password)),
    login: handle(async (req: userV1.LoginRequest) => accounts.login(req.username, req.password)),
    logout: handle(async (req: userV1.LogoutRequest) => {
      await accounts.logout(req.token);
      return {};
    }),
    verifyToken: handle(async (req: userV1.VerifyTokenRequest) => {
      const c = await accounts.verifyToken(req.token);
      return { userId: c.userId, jti: c.jti, expiresAtUnix: c.expiresAtUnix };
    }),
    getUser: handle(async (req: userV1.GetUserRequest) => ({ user: toUserMessage(await profiles.getUser(req.userId)) })),
    batchGetUsers: handle(async (req: userV1.BatchGetUsersRequest) => {
      const batch = await profiles.batchGetUsers(req.userIds, { skipProcessCache: req.skipProcessCache });
      return { users: batch.users.map(toUserMessage), missingUserIds: [...batch.missingUserIds] };
    }),
    userExists: handle(async (req: userV1.UserExistsRequest) => ({ exists: await profiles.userExists(req.userId) })),
  };
  return { definition: userV1.UserServiceService, implementation };
}

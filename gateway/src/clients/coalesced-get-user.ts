/**
 * GetUser calls made in one turn of the event loop go out as one BatchGetUsers
 * (docs/adr/0022): under load many requests reach their profile read in the
 * same turn, and a call costs the gateway and the user service mostly per
 * call, not per id. The answer is the one GetUser would give: the profile, or
 * NOT_FOUND with the user service's text for an id it does not know. An id the
 * user service would refuse (not a positive integer below 2^53) is asked with
 * GetUser alone, so its INVALID_ARGUMENT never fails the requests it would
 * have shared a batch with.
 */
import { BatchCoalescer } from "@rs/cache";
import { notFound } from "@rs/errors";
import { BATCH_GET_USERS_MAX, type userV1 } from "@rs/idl";
import { callDeadline } from "@rs/logger";
import type { UserClient } from "./service-clients.js";

type GetUser = UserClient["getUser"];

/** `getUser` of `client`, coalesced into its `batchGetUsers`. */
export function coalescedGetUser(client: Pick<UserClient, "getUser" | "batchGetUsers">): GetUser {
  const batches = new BatchCoalescer<number, userV1.User>(
    async (ids) => {
      const { users } = await client.batchGetUsers({ userIds: ids, skipProcessCache: false });
      return new Map(users.map((u) => [u.id, u]));
    },
    {
      maxKeys: BATCH_GET_USERS_MAX,
      deadlineOf: callDeadline,
    },
  );
  return async (req, opts) => {
    const id = req.userId;
    // Call options (a deadline, metadata of this request) belong to one call: such a call is not shared.
    if (opts !== undefined || !Number.isSafeInteger(id) || id <= 0) return client.getUser(req, opts);
    const user = (await batches.get([id])).get(id);
    if (!user) throw notFound(`user ${id} not found`);
    return { user };
  };
}

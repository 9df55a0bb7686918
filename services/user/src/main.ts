/** Entry point of the user rpc process (config first, so a bad value stops it before anything opens). */
import { runMain } from "@rs/runtime";
import { loadUserConfig } from "./config.js";
import { startUserService } from "./user.process.js";

runMain("user", () => startUserService(loadUserConfig()));

import { runMain } from "@rs/runtime";
import { loadGatewayConfig } from "./config.js";
import { startGateway } from "./gateway.process.js";

// Config is loaded inside start, so a bad value exits non-zero naming the variable.
runMain("gateway", () => startGateway(loadGatewayConfig()));

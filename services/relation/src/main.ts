import { runMain } from "@rs/runtime";
import { loadRelationConfig } from "./config.js";
import { startRelationService } from "./relation.process.js";

// async: a bad configuration rejects the start (reported and exit 1) instead of throwing past runMain
runMain("relation", async () => startRelationService(loadRelationConfig()));

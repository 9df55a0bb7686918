import { runMain } from "@rs/runtime";
import { loadPersisterConfig } from "./config.js";
import { startPersister } from "./persister/persister.process.js";

// async: a bad configuration rejects the start (reported, exit 1) instead of throwing past runMain
runMain("relation-persister", async () => startPersister(loadPersisterConfig()));

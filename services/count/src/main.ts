import { runMain } from "@rs/runtime";
import { loadCountConfig } from "./config.js";
import { startCountService } from "./count.process.js";

// async: a bad configuration rejects the start (reported, exit 1) instead of throwing past runMain
runMain("count", async () => startCountService(loadCountConfig()));

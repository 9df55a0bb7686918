import { runMain } from "@rs/runtime";
import { loadCountConsumerConfig } from "./config.js";
import { startCountConsumer } from "./consumer.process.js";

// async: a bad configuration rejects the start (reported, exit 1) instead of throwing past runMain
runMain("count-consumer", async () => startCountConsumer(loadCountConsumerConfig()));

/** Entry point of the user-consumer (count.changed → the users' redundant counters). */
import { runMain } from "@rs/runtime";
import { loadUserConsumerConfig } from "./config.js";
import { startUserConsumer } from "./consumer.process.js";

runMain("user-consumer", () => startUserConsumer(loadUserConsumerConfig()));

import { randomBytes } from "node:crypto";
import os from "node:os";

const SUFFIX_BYTES = 4;

/** A readable, unique instance id: host, pid and a random suffix (pids repeat across containers). */
export function newInstanceId(service: string): string {
  return `${service}-${os.hostname()}-${process.pid}-${randomBytes(SUFFIX_BYTES).toString("hex")}`;
}

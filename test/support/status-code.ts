/**
 * The gRPC status code `fn` throws (a StatusError or ServiceError carries
 * `code`), or undefined when it returns: for unit tests of synchronous checks.
 */
export function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

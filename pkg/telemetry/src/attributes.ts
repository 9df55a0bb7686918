/** The attribute holding a request's X-Request-Id on the gateway's HTTP span (`./dev.sh trace <request id>` searches it). */
export const REQUEST_ID_ATTRIBUTE = "request.id";

#!/usr/bin/env bash
# The suite's one entry point. On a fresh Debian machine with Node.js, git and root:
#   ./dev.sh up      install everything, start the whole suite, Ctrl-C stops it
#   ./dev.sh test    install everything, start the servers, run every test, stop them
#   ./dev.sh stop    stop what `up` started (from another terminal, or after `up -d`)
#   ./dev.sh status  show what runs where
#   ./dev.sh bench NAME  start the servers, run bench/NAME.ts (installs ghz and grpcurl)
#   ./dev.sh bench       every bench of a design §10 target (bench/all.ts), then the summary in docs/benchmarks.md
#   ./dev.sh reconcile [--dry-run | --rebuild-counts]  compare and repair follows, fans, counts and their copies
#   ./dev.sh trace ID|REQUEST-ID|last [ROUTE]  print a trace from Jaeger as a waterfall
#   ./dev.sh chaos [--short]  fault harness on its own instance of the stack (docs/reliability.md)
set -euo pipefail
cd "$(dirname "$0")"
source deploy/bootstrap.sh
cmd="${1:-up}"
shift || true
case "$cmd" in
  up | test | stop | status | infra | bench | reconcile | trace | chaos) ;;
  *) echo "usage: ./dev.sh up [-d] | test [vitest args] | stop | status | infra | bench [NAME] | reconcile [--dry-run | --rebuild-counts] | trace TRACE-ID|REQUEST-ID|last [ROUTE] | chaos [--short]" >&2; exit 2 ;;
esac
bootstrap "$cmd"
exec node --import tsx deploy/stack/cli.ts "$cmd" "$@"

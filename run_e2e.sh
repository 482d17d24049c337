#!/usr/bin/env bash
# run_e2e.sh — the one entry point of the CloudAct harness.
#
#   ./run_e2e.sh [full]        set up if needed, then run scenarios/full_onboarding.yml (harness run)
#   ./run_e2e.sh bootstrap|onboard|integration|pipeline    one seed scenario
#   ./run_e2e.sh all           every scenario under scenarios/
#   ./run_e2e.sh ... --backend fake|emulator|gcp   --live   (tier; against running services)
#   ./run_e2e.sh test ...      set up if needed, then run the test suite (extra args go to pytest)
#   ./run_e2e.sh replay FILE   re-run a run record or scenario offline (harness replay)
#   ./run_e2e.sh serve ...     both services on 8000/8001 over a tier's backends (harness serve)
#   ./run_e2e.sh setup | help
#
# Preflight runs before anything else: --live needs both services to answer /health, --backend gcp
# needs every required variable. Exit status: 0 pass, 1 scenario failure, 2 usage or preflight error.
# Colour only when stdout is a terminal and NO_COLOR is unset or empty (https://no-color.org).
set -euo pipefail

# Resolve the repository root with bash alone: the "no Python" path must work on a bare PATH.
case "${BASH_SOURCE[0]}" in
    */*) ROOT="${BASH_SOURCE[0]%/*}" ;;
    *) ROOT="." ;;
esac
ROOT="$(cd "$ROOT" && pwd)"
cd "$ROOT"

readonly VENV="$ROOT/.venv"
readonly VENV_PY="$VENV/bin/python"
readonly STAMP="$VENV/.harness-install-stamp"
readonly PYTHON_CANDIDATES=(python3.11 python3.12 python3.13 python3)
readonly MODES="full bootstrap onboard integration pipeline all test replay serve setup help"
readonly BACKENDS="fake emulator gcp"
readonly GCP_REQUIRED=(GCP_PROJECT_ID KMS_KEY_NAME GOOGLE_APPLICATION_CREDENTIALS CA_ROOT_API_KEY STRIPE_WEBHOOK_SECRET OPENAI_API_KEY)
# The public local defaults of the shared secrets (harness/services/settings.py), refused on gcp.
readonly GCP_REFUSED_DEFAULTS=(CA_ROOT_API_KEY=local-root-key STRIPE_WEBHOOK_SECRET=whsec_local_harness)
readonly DEFAULT_API_URL="http://127.0.0.1:8000"
readonly DEFAULT_PIPELINE_URL="http://127.0.0.1:8001"

# Options shared by the scenario modes (set by parse_args).
BACKEND="" BACKEND_SOURCE="" LIVE=0 HTML_REPORT=""

# ---------------------------------------------------------------------------------------- output
C_RESET="" C_BOLD="" C_RED="" C_GREEN="" C_YELLOW=""
E_RESET="" E_RED="" E_YELLOW=""
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
    C_RESET=$'\033[0m' C_BOLD=$'\033[1m' C_RED=$'\033[31m' C_GREEN=$'\033[32m' C_YELLOW=$'\033[33m'
    if [[ -t 2 ]]; then
        E_RESET="$C_RESET" E_RED="$C_RED" E_YELLOW="$C_YELLOW"
    fi
fi

heading() { printf '%s==> %s%s\n' "$C_BOLD" "$*" "$C_RESET"; }
ok() { printf '%sok%s    %s\n' "$C_GREEN" "$C_RESET" "$*"; }
warn() { printf '%swarn%s  %s\n' "$E_YELLOW" "$E_RESET" "$*" >&2; }
error() { printf '%serror%s %s\n' "$E_RED" "$E_RESET" "$*" >&2; }
die() { # die EXIT_CODE MESSAGE...
    local code="$1"
    shift
    error "$@"
    exit "$code"
}

usage() {
    cat <<EOF
${C_BOLD}Usage:${C_RESET} ./run_e2e.sh [MODE] [--backend fake|emulator|gcp] [--live] [--html FILE] [ARGS...]

${C_BOLD}Modes${C_RESET} (each sets up .venv first if needed):
  full (default)   scenarios/full_onboarding.yml through the scenario runner: bootstrap,
                   onboard, OpenAI integration, pipeline, quota, subscription, cleanup;
                   one line per step (harness run). "main" is an alias.
  bootstrap        scenarios/bootstrap_only.yml
  onboard          scenarios/onboarding_only.yml
  integration      scenarios/integration_only.yml
  pipeline         scenarios/pipeline_flow.yml
  all              every scenario under scenarios/ (harness run scenarios/)
  test [ARGS...]   the test suite in parallel (pytest -n auto -q ARGS...),
                   e.g. ./run_e2e.sh test -k rules; ./run_e2e.sh test --quick is the
                   inner loop: the fake tier only, without the tests marked slow
                   (conformance corpus, fault plans, browser, wheel, processes),
                   emulator or requires_docker, nor those .test_durations records
                   as slower than 0.15 s (--quick-max-seconds S); the default run
                   still covers them all.
                   With PYTHONDONTWRITEBYTECODE set, the run keeps compiled bytecode
                   under .venv/pycache instead (PYTHONPYCACHEPREFIX), not beside the
                   sources: every test process would compile the project again
  replay FILE      re-run a run record or scenario file on the fake tier
                   (harness replay FILE)
  serve [ARGS...]  the api-service and pipeline-service on 8000/8001 in one process
                   over the tier's backends (fake: in-process fakes; emulator: the
                   real clients against emulators in the same process), until Ctrl-C
                   (harness serve ARGS...)
  setup            create .venv (Python >= 3.11) and install the project with its
                   dev + containers extras, pinned by constraints.txt; skipped when
                   pyproject.toml and constraints.txt have not changed
  help, --help     show this help

${C_BOLD}Options${C_RESET} (scenario modes):
  --backend TIER   fake (in-process fakes), emulator (the real Google clients against
                   local emulators) or gcp; passed to harness run, harness serve, or
                   pytest (test: the suite runs fake and emulator unless given)
                   [default: \$HARNESS_BACKEND, else the runner's default, fake]
  --live           run against services that are already running (e.g. ./run_e2e.sh
                   serve in another terminal): --api-url \$API_URL --pipeline-url
                   \$PIPELINE_URL [default: $DEFAULT_API_URL and $DEFAULT_PIPELINE_URL]
  --html FILE      also write the run's HTML report (steps as a timeline, failures
                   first) to FILE: harness run --html FILE

${C_BOLD}Preflight${C_RESET} (before anything is installed or run):
  --live           both services must answer GET /health
  --backend gcp    GCP_PROJECT_ID, KMS_KEY_NAME, GOOGLE_APPLICATION_CREDENTIALS (a file),
                   CA_ROOT_API_KEY, STRIPE_WEBHOOK_SECRET and OPENAI_API_KEY must be set (the
                   two secrets not to their local defaults); each problem is named

${C_BOLD}Environment:${C_RESET}
  NO_COLOR=1                          plain output even on a terminal
  HARNESS_BACKEND=TIER                default for --backend
  API_URL, PIPELINE_URL               service URLs for --live
  HARNESS_HYPOTHESIS_PROFILE=NAME     hypothesis profile for tests: default, ci, nightly
  HARNESS_INSTALL_CHROMIUM=0          test mode: do not install chromium (run as root, it
                                      installs it with apt-get when missing, for the HTML
                                      report's browser test; otherwise that test is skipped)
  HARNESS_SKIP_DOCKER=1               skip the requires_docker tests when no Docker daemon
                                      answers (under plain pytest they fail without it; test
                                      mode sets it, saying so, when no daemon answers; CI sets it)

${C_BOLD}Exit status:${C_RESET}
  0 success; 1 a scenario failed; 2 usage or preflight error, or no Python >= 3.11;
  5 no tests collected; otherwise the failing step's status (pip, harness or pytest).
EOF
}

usage_error() {
    error "$@"
    usage >&2
    exit 2
}

# ----------------------------------------------------------------------------------------- python
# Prints the first interpreter on PATH that is >= 3.11 (asked of the interpreter itself, so pyenv
# shims that cannot run and "python3" being an older version are both handled).
find_python() {
    local name path version
    local -a rejected=()
    for name in "${PYTHON_CANDIDATES[@]}"; do
        path="$(command -v "$name" 2>/dev/null)" || continue
        if "$path" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; then
            printf '%s\n' "$path"
            return 0
        fi
        version="$("$path" --version 2>&1)" || true
        version="${version%%$'\n'*}"
        rejected+=("$name at $path (${version:-does not run})")
    done
    error "No Python >= 3.11 found on PATH (looked for: ${PYTHON_CANDIDATES[*]})."
    if ((${#rejected[@]})); then
        local item
        for item in "${rejected[@]}"; do
            error "  rejected: $item"
        done
    fi
    error "Install Python 3.11 or newer (it must provide the venv module) and re-run ./run_e2e.sh."
    return 1
}

# Hash of everything that decides what gets installed; the venv is reinstalled when it changes.
install_fingerprint() {
    "$VENV_PY" - "$ROOT" pyproject.toml constraints.txt <<'PY'
import hashlib
import sys

digest = hashlib.sha256()
digest.update(sys.version.encode())
digest.update(sys.argv[1].encode())
for name in sys.argv[2:]:
    with open(name, "rb") as handle:
        digest.update(name.encode() + b"\0" + handle.read())
print(digest.hexdigest())
PY
}

# ------------------------------------------------------------------------------------------ modes
ensure_setup() {
    local python fingerprint required
    for required in pyproject.toml constraints.txt; do
        [[ -f "$required" ]] || die 1 "$required is missing from $ROOT; is this a complete checkout?"
    done

    if [[ ! -e "$VENV" ]]; then
        python="$(find_python)" || exit 2
        heading "Creating .venv with $python"
        if ! "$python" -m venv "$VENV"; then
            rm -rf "$VENV"
            die 1 "Could not create .venv with $python. On Debian/Ubuntu install the matching" \
                "python3.X-venv package, then re-run ./run_e2e.sh setup."
        fi
        ok ".venv created with $("$python" --version 2>&1)"
    fi

    if [[ ! -x "$VENV_PY" ]] ||
        ! "$VENV_PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; then
        die 1 ".venv exists but its interpreter is missing, broken or older than 3.11." \
            "Remove it (rm -rf .venv) and re-run ./run_e2e.sh setup."
    fi

    fingerprint="$(install_fingerprint)" || die 1 "Could not fingerprint pyproject.toml and constraints.txt."
    if [[ -f "$STAMP" && "$(<"$STAMP")" == "$fingerprint" ]]; then
        ok "environment up to date (.venv, $("$VENV_PY" --version 2>&1))"
        return 0
    fi

    heading "Installing the harness into .venv (pinned by constraints.txt)"
    rm -f "$STAMP"
    if ! "$VENV_PY" -m pip install --quiet --disable-pip-version-check --upgrade pip; then
        warn "Could not upgrade pip; continuing with the one in .venv."
    fi
    if ! "$VENV_PY" -m pip install --quiet --disable-pip-version-check \
        -c constraints.txt -e '.[dev,containers]'; then
        die 1 "Installing the project into .venv failed (see pip's output above). Check that the" \
            "package index is reachable, then re-run ./run_e2e.sh setup."
    fi
    printf '%s\n' "$fingerprint" >"$STAMP.tmp"
    mv -f "$STAMP.tmp" "$STAMP"
    ok "installed (.venv, $("$VENV_PY" --version 2>&1))"
}

mode_setup() {
    (($# == 0)) || usage_error "setup takes no arguments (got: $*)"
    ensure_setup
}

# ---------------------------------------------------------------------------------- preflight
# Prints the body of GET URL; fails (with the reason on stdout) when nothing answers 2xx in time.
http_get() {
    local url="$1" python=""
    if command -v curl >/dev/null 2>&1; then
        curl --silent --show-error --fail --connect-timeout 3 --max-time 5 "$url" 2>&1
        return
    fi
    if [[ -x "$VENV_PY" ]]; then
        python="$VENV_PY"
    else
        python="$(command -v python3 2>/dev/null)" || python=""
    fi
    [[ -n "$python" ]] || die 2 "Cannot check $url: neither curl nor python3 is on PATH."
    "$python" - "$url" <<'PY' 2>&1
import sys
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
        print(response.read().decode("utf-8", "replace"))
except Exception as error:  # any failure means "not answering"
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)
PY
}

# check_service NAME BASE_URL VARIABLE: prints a problem line per failure, returns 1 on any.
check_service() {
    local name="$1" base="${2%/}" variable="$3" body other
    if ! body="$(http_get "$base/health")"; then
        body="${body//$'\n'/ }"
        printf '%s is not answering at %s/health (%s); start it with ./run_e2e.sh serve, or set %s\n' \
            "$name" "$base" "${body:-no answer}" "$variable"
        return 1
    fi
    for other in api-service pipeline-service; do
        if [[ "$other" != "$name" && "$body" =~ \"service\"[[:space:]]*:[[:space:]]*\"$other\" ]]; then
            printf '%s: %s/health is answered by the %s; check %s\n' "$name" "$base" "$other" "$variable"
            return 1
        fi
    done
}

# Everything a scenario mode needs that can be checked before installing or running anything.
preflight() {
    local -a problems=()
    local name line
    if [[ "$BACKEND" == gcp ]]; then
        for name in "${GCP_REQUIRED[@]}"; do
            if [[ -z "${!name:-}" ]]; then
                problems+=("$name is not set (required by --backend gcp)")
            fi
        done
        for line in "${GCP_REFUSED_DEFAULTS[@]}"; do
            name="${line%%=*}"
            if [[ "${!name:-}" == "${line#*=}" ]]; then
                problems+=("$name is the local default, which --backend gcp refuses: set a secret of your own")
            fi
        done
        if [[ -n "${GOOGLE_APPLICATION_CREDENTIALS:-}" && ! -f "$GOOGLE_APPLICATION_CREDENTIALS" ]]; then
            problems+=("GOOGLE_APPLICATION_CREDENTIALS names $GOOGLE_APPLICATION_CREDENTIALS, which is not a file")
        fi
    fi
    if ((LIVE)); then
        line="$(check_service api-service "$(api_url)" API_URL)" || problems+=("$line")
        line="$(check_service pipeline-service "$(pipeline_url)" PIPELINE_URL)" || problems+=("$line")
    fi
    if ((${#problems[@]})); then
        error "Preflight failed; nothing was run:"
        for line in "${problems[@]}"; do
            error "  $line"
        done
        exit 2
    fi
    if ((LIVE)); then
        ok "api-service at $(api_url) and pipeline-service at $(pipeline_url) answer /health"
    fi
    if [[ "$BACKEND" == gcp ]]; then
        ok "gcp variables set: ${GCP_REQUIRED[*]}"
    fi
}

api_url() { printf '%s\n' "${API_URL:-$DEFAULT_API_URL}"; }
pipeline_url() { printf '%s\n' "${PIPELINE_URL:-$DEFAULT_PIPELINE_URL}"; }

# ------------------------------------------------------------------------------ scenario modes
# mode_scenarios MODE TARGET [ARGS...]: harness run TARGET with the shared options.
mode_scenarios() {
    local mode="$1" target="$2"
    shift 2
    (($# == 0)) || usage_error "$mode takes no arguments (got: $*)"
    preflight
    ensure_setup

    [[ -e "$target" ]] || die 2 "$target does not exist; is this a complete checkout?"

    local -a cmd=("$VENV/bin/harness" run "$target")
    local where="in-process services"
    [[ -z "$BACKEND" ]] || cmd+=(--backend "$BACKEND")
    [[ -z "$HTML_REPORT" ]] || cmd+=(--html "$HTML_REPORT")
    if ((LIVE)); then
        cmd+=(--api-url "$(api_url)" --pipeline-url "$(pipeline_url)")
        where="live services at $(api_url) and $(pipeline_url)"
    fi
    heading "harness run $target (${BACKEND:-default} tier, $where)"
    local rc=0
    "${cmd[@]}" || rc=$?
    case "$rc" in
        0) ok "$target passed" ;;
        1) die 1 "$target failed (harness run exit 1); the failing step is shown above." ;;
        *) die "$rc" "harness run failed (exit $rc)." ;;
    esac
}

mode_replay() {
    (($# == 1)) || usage_error "replay takes exactly one run record or scenario file (got: ${*:-none})"
    local target="$1"
    [[ -e "$target" ]] || usage_error "replay: $target does not exist"
    ensure_setup
    heading "harness replay $target (fake tier)"
    local rc=0
    "$VENV/bin/harness" replay "$target" || rc=$?
    case "$rc" in
        0) ok "replay of $target passed" ;;
        1) die 1 "replay of $target failed (harness replay exit 1)." ;;
        *) die "$rc" "harness replay failed (exit $rc)." ;;
    esac
}

mode_serve() {
    ensure_setup
    heading "harness serve${*:+ $*} (Ctrl-C to stop)"
    exec "$VENV/bin/harness" serve "$@"
}

# The HTML report's browser test (tests/test_html_report_browser.py) needs Debian's chromium.
# As root (CI containers) it is installed when missing; anyone else gets the test's skip and its
# reason. HARNESS_CHROMIUM names another browser; HARNESS_INSTALL_CHROMIUM=0 never installs.
ensure_chromium() {
    local browser="${HARNESS_CHROMIUM:-chromium}"
    if [[ "${HARNESS_INSTALL_CHROMIUM:-1}" == 0 ]] || command -v "$browser" >/dev/null 2>&1; then
        return 0
    fi
    if ((EUID != 0)); then
        warn "$browser is not installed: the HTML report's browser test is skipped (as root, test mode installs it)"
        return 0
    fi
    heading "Installing chromium for the HTML report's browser test (apt-get)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null; then
        warn "could not install chromium with apt-get: the HTML report's browser test is skipped"
    fi
}

mode_test() {
    ensure_setup
    # Under plain pytest the container tests fail when no Docker daemon answers, unless
    # HARNESS_SKIP_DOCKER=1 says to skip them. Here the same check runs first and, with no
    # daemon, skips them out loud (HARNESS_SKIP_DOCKER=0 keeps the failure).
    local problem
    if [[ -z "${HARNESS_SKIP_DOCKER:-}" ]] &&
        problem="$("$VENV_PY" -c 'from harness.pytest_plugin.probes import docker_problem as p; print(p() or "")')" &&
        [[ -n "$problem" ]]; then
        warn "no Docker daemon ($problem): the requires_docker tests are skipped (HARNESS_SKIP_DOCKER=1)"
        export HARNESS_SKIP_DOCKER=1
    fi
    # The suite starts hundreds of Python processes (pytest workers, harness runs, pytester);
    # without bytecode each compiles the project from source, a fifth of their CPU.
    if [[ -n "${PYTHONDONTWRITEBYTECODE:-}" ]]; then
        unset PYTHONDONTWRITEBYTECODE
        export PYTHONPYCACHEPREFIX="$VENV/pycache"
    fi
    # --quick deselects the browser test, so it needs no browser installed.
    [[ " $* " == *" --quick "* ]] || ensure_chromium
    heading "Running the test suite (pytest -n auto -q${*:+ $*})"
    local rc=0
    "$VENV_PY" -m pytest -n auto -q "$@" || rc=$?
    case "$rc" in
        0) ok "tests passed" ;;
        5) die 5 "pytest collected no tests. A suite that runs nothing is a failure:" \
            "check the test paths and any -k/-m expression you passed." ;;
        *) die "$rc" "tests failed (pytest exit $rc)." ;;
    esac
}

# --------------------------------------------------------------------------------------- dispatch
set_backend() { # set_backend VALUE SOURCE
    case " $BACKENDS " in
        *" $1 "*) BACKEND="$1" BACKEND_SOURCE="$2" ;;
        *) usage_error "unknown backend '$1' from $2 (backends: $BACKENDS)" ;;
    esac
}

main() {
    local mode="" arg
    local -a args=()
    if [[ -n "${HARNESS_BACKEND:-}" ]]; then
        set_backend "$HARNESS_BACKEND" HARNESS_BACKEND
    fi

    while (($#)); do
        arg="$1"
        shift
        case "$arg" in
            --backend)
                (($#)) || usage_error "--backend needs a value (backends: $BACKENDS)"
                set_backend "$1" --backend
                shift
                ;;
            --backend=*) set_backend "${arg#*=}" --backend ;;
            --live) LIVE=1 ;;
            --html)
                (($#)) || usage_error "--html needs a file (the HTML report of the scenario run)"
                HTML_REPORT="$1"
                shift
                ;;
            --html=*) HTML_REPORT="${arg#*=}" ;;
            -h | --help)
                usage
                exit 0
                ;;
            -*) usage_error "unknown option '$arg'${mode:+ for $mode}" ;;
            *)
                if [[ -n "$mode" ]]; then
                    args+=("$arg")
                    continue
                fi
                mode="$arg"
                # test and serve hand everything after them to pytest / harness serve untouched.
                if [[ "$mode" == test || "$mode" == serve ]]; then
                    args=("$@")
                    break
                fi
                ;;
        esac
    done
    mode="${mode:-full}"

    local explicit_backend=""
    [[ "$BACKEND_SOURCE" == --backend ]] && explicit_backend="$BACKEND"
    case "$mode" in
        full | main | bootstrap | onboard | integration | pipeline | all) ;;
        test)
            ((LIVE == 0)) || usage_error "--live applies to the scenario modes, not to test"
            [[ -z "$HTML_REPORT" ]] || usage_error "--html applies to the scenario modes, not to test (pytest takes its own --html)"
            [[ -z "$explicit_backend" ]] || args=(--backend "$explicit_backend" ${args[@]+"${args[@]}"})
            ;;
        setup | replay | serve | help)
            ((LIVE == 0)) || usage_error "--live applies to the scenario modes, not to $mode"
            [[ -z "$HTML_REPORT" ]] || usage_error "--html applies to the scenario modes, not to $mode"
            if [[ -n "$explicit_backend" && "$mode" != serve ]]; then
                usage_error "--backend applies to the scenario modes, test and serve, not to $mode"
            fi
            [[ -z "$explicit_backend" ]] || args=(--backend "$explicit_backend" ${args[@]+"${args[@]}"})
            ;;
        *) usage_error "unknown mode '$mode' (modes: $MODES)" ;;
    esac

    case "$mode" in
        full | main) mode_scenarios "$mode" scenarios/full_onboarding.yml ${args[@]+"${args[@]}"} ;;
        bootstrap) mode_scenarios "$mode" scenarios/bootstrap_only.yml ${args[@]+"${args[@]}"} ;;
        onboard) mode_scenarios "$mode" scenarios/onboarding_only.yml ${args[@]+"${args[@]}"} ;;
        integration) mode_scenarios "$mode" scenarios/integration_only.yml ${args[@]+"${args[@]}"} ;;
        pipeline) mode_scenarios "$mode" scenarios/pipeline_flow.yml ${args[@]+"${args[@]}"} ;;
        all) mode_scenarios "$mode" scenarios/ ${args[@]+"${args[@]}"} ;;
        setup) mode_setup ${args[@]+"${args[@]}"} ;;
        test) mode_test ${args[@]+"${args[@]}"} ;;
        replay) mode_replay ${args[@]+"${args[@]}"} ;;
        serve) mode_serve ${args[@]+"${args[@]}"} ;;
        help) usage ;;
    esac
}

main "$@"

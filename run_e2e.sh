#!/usr/bin/env bash
# run_e2e.sh — the one entry point of the CloudAct harness.
#
#   ./run_e2e.sh            set up if needed, then run the seed flow on the in-process fakes
#   ./run_e2e.sh setup      create .venv and install the project (skipped when nothing changed)
#   ./run_e2e.sh test ...   set up if needed, then run the test suite (extra args go to pytest)
#   ./run_e2e.sh help       usage
#
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
readonly MODES="main setup test help"

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
${C_BOLD}Usage:${C_RESET} ./run_e2e.sh [MODE] [ARGS...]

${C_BOLD}Modes:${C_RESET}
  (none), main     set up if needed, then run the seed flow on the in-process
                   fakes: bootstrap the 15 meta tables, onboard an org, set up an
                   OpenAI integration, check quota and subscription, clean up
                   (harness e2e)
  setup            create .venv (Python >= 3.11) and install the project with its
                   dev + containers extras, pinned by constraints.txt; skipped when
                   pyproject.toml and constraints.txt have not changed
  test [ARGS...]   set up if needed, then run the test suite in parallel
                   (pytest -n auto -q ARGS...), e.g. ./run_e2e.sh test -k rules
  help, --help     show this help

${C_BOLD}Environment:${C_RESET}
  NO_COLOR=1                          plain output even on a terminal
  HARNESS_HYPOTHESIS_PROFILE=NAME     hypothesis profile for tests: default, ci, nightly

${C_BOLD}Exit status:${C_RESET}
  0 success; 2 usage error or no Python >= 3.11; 5 no tests collected;
  otherwise the failing step's status (pip, harness or pytest).
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

mode_main() {
    (($# == 0)) || usage_error "main takes no arguments (got: $*)"
    ensure_setup
    heading "Seed flow on the in-process fakes: bootstrap, onboard, OpenAI integration, quota, subscription, cleanup"
    local rc=0
    "$VENV/bin/harness" e2e || rc=$?
    if ((rc != 0)); then
        die "$rc" "harness e2e failed (exit $rc)."
    fi
    ok "seed flow finished"
}

mode_test() {
    ensure_setup
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
main() {
    local mode="${1:-main}"
    (($# == 0)) || shift
    case "$mode" in
        main) mode_main "$@" ;;
        setup) mode_setup "$@" ;;
        test) mode_test "$@" ;;
        help | -h | --help) usage ;;
        *) usage_error "unknown mode '$mode' (modes: $MODES)" ;;
    esac
}

main "$@"

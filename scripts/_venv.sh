# Sourced by scripts/*: creates .venv with Python >= 3.11 and installs the three distributions
# editable: the core (.), the emulator (./emulator) and the development tools with the test extras
# (./devtools[test]); again only when one of their pyproject.toml files changed (a stamp file keeps
# the hash).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
pick_python() {
    for candidate in "${PYTHON:-}" python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    echo "error: Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)" >&2
    return 1
}
if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$(pick_python)" -m venv "$VENV"
fi
STAMP="$VENV/.line-idlink-installed"
WANT="$(cat "$ROOT/pyproject.toml" "$ROOT/emulator/pyproject.toml" "$ROOT/devtools/pyproject.toml" \
        | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "==> installing line-idlink, line-emulator and line-idlink-devtools[test] into .venv"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v 'is ignored' || true
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -e "$ROOT" -e "$ROOT/emulator" -e "$ROOT/devtools[test]" 2>&1 | grep -v 'is ignored' || true
    "$VENV/bin/python" -c 'import line_idlink, line_emulator, line_idlink_dev, linebot.v3, jwt, werkzeug, nbval' \
        || { echo "error: installing into .venv failed" >&2; exit 1; }
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"

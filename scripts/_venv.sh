# Sourced by the scripts here: makes ./.venv with the machine's python3 and puts it first on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Licentia needs Python 3.11 or newer; python3 is $(python3 --version 2>&1)." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv 2>/dev/null; then
        # Debian ships venv separately.
        rm -rf .venv
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            python3 -m venv .venv
        else
            echo "python3 cannot make a virtual environment: run 'sudo apt-get install python3-venv'." >&2
            exit 1
        fi
    fi
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
export PATH="$PWD/.venv/bin:$PATH"

#!/usr/bin/env bash
# Run the test suite on a fresh machine: puts tox in .venv-tools, then runs it.
# Extra arguments go to tox, e.g. `bash scripts/test.sh -e pip-26.3`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv-tools/bin/tox ]; then
    "$PYTHON" -m venv .venv-tools
    PIP_CONFIG_FILE=/dev/null .venv-tools/bin/python -m pip install -q \
        --disable-pip-version-check 'tox>=4'
fi
exec .venv-tools/bin/tox "$@"

#!/usr/bin/env bash
# The main job, from a fresh machine: make a virtualenv, install peep-hook into
# it, then run an unchanged `pip install -r` that is now hash-checked.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv-demo

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check .   # peep-hook + wrapt

echo "--- pip install -r examples/requirements.txt (hashes match)"
"$VENV/bin/pip" install --disable-pip-version-check -r examples/requirements.txt
"$VENV/bin/python" -c "import six; print('installed six', six.__version__)"

echo "--- pip install -r examples/wrong-hash.txt (must be refused)"
status=0
"$VENV/bin/pip" install --disable-pip-version-check --force-reinstall \
    -r examples/wrong-hash.txt || status=$?
if [ "$status" -ne 1 ]; then
    echo "expected pip to refuse with exit status 1, got $status" >&2
    exit 1
fi
echo "--- refused, as it should be: peep-hook is working"

#!/usr/bin/env bash
# Run the test suite on a fresh machine: puts tox in .venv-tools, finds the
# CPython 3.8-3.13 interpreters the environments need, then runs tox.
# Extra arguments go to tox, e.g. `bash scripts/test.sh -e pip-26.3`,
# `bash scripts/test.sh -m full` (every Python x pip pair, in one go), or
# `bash scripts/test.sh matrix` (the same, resumable; see scripts/matrix.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# virtualenv 21.5 dropped the seed wheels for Python 3.8 (it then refuses to
# create 3.8 environments); tox 4 needs virtualenv 21.1 or newer.
TOOLS="tox>=4 virtualenv>=21.1,<21.5"
if [ ! -x .venv-tools/bin/tox ] || [ "$(cat .venv-tools/tools.txt 2>/dev/null)" != "$TOOLS" ]; then
    [ -x .venv-tools/bin/python ] || "$PYTHON" -m venv .venv-tools
    # shellcheck disable=SC2086  # one argument per requirement
    PIP_CONFIG_FILE=/dev/null .venv-tools/bin/python -m pip install -q \
        --disable-pip-version-check $TOOLS
    echo "$TOOLS" > .venv-tools/tools.txt
fi

# tox looks for python3.N on PATH. pyenv's shims answer only for the active
# versions, so link each missing python3.N from its installation (the newest
# patch release) into a directory of its own, put first on PATH: only
# python3.N names, so that python3, pip and the rest stay as they were.
# Links are replaced by rename, so that a run in progress never misses one.
# Not inside .venv-tools: Python takes a pyvenv.cfg one directory above the
# link for its own and would think itself that venv.
PYTHONS=.venv-pythons
mkdir -p "$PYTHONS"
for minor in 8 9 10 11 12 13; do
    name=python3.$minor
    if "$name" -c pass >/dev/null 2>&1; then
        continue
    fi
    found=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3."$minor".* 2>/dev/null \
        | grep -E "/3\.$minor\.[0-9]+$" | sort -V | tail -n 1) || true
    if [ -n "$found" ] && [ -x "$found/bin/$name" ]; then
        ln -sfn "$found/bin/$name" "$PYTHONS/.$name.$$"
        mv -Tf "$PYTHONS/.$name.$$" "$PYTHONS/$name"
    elif [ ! -x "$PYTHONS/$name" ]; then
        echo "scripts/test.sh: no $name found; its tox environments will fail" >&2
    fi
done
PATH="$PWD/$PYTHONS:$PATH"
export PATH
if [ "${1:-}" = matrix ]; then  # every Python x pip pair, resumable: scripts/matrix.py
    shift
    exec .venv-tools/bin/python scripts/matrix.py --tox .venv-tools/bin/tox "$@"
fi
if [ "$#" -gt 0 ]; then
    exec .venv-tools/bin/tox "$@"
fi

# No arguments: what CI runs, within its time on two cores:
# - lint;
# - the whole suite on the newest pip (Python 3.11);
# - on the oldest pip (3.11), all but the tests that do not depend on the pip
#   under test: the pure-Python units (requirements files, hashes, check,
#   port, the layout's import rules, the global sitecustomize's units) and the
#   global hook's scenarios, whose pips are the interpreter's own (ensurepip's,
#   virtualenv's); fill and verify --deep use pip's finder and session, so
#   their tests run there;
# - the tests marked `core` (the holes attackers' reviews found, a pip below a
#   protected pip, everyday workflows, verify --deep's proofs, and on 3.8 and
#   3.9 the distributions' patched ensurepip) on the two middle pips and on
#   every other Python with the newest pip it supports, and the slow cases,
#   three environments at a time;
# `-m full` runs everything everywhere.
PIP_INDEPENDENT="tests/test_reqfile.py tests/test_reqfile_properties.py tests/test_hashes.py
    tests/test_lint.py tests/test_port.py tests/test_layout.py tests/test_sitecustomize.py
    tests/test_units.py tests/test_global.py tests/test_bootstrap_steps.py"
IGNORED=$(for f in $PIP_INDEPENDENT; do printf -- '--ignore=%s ' "$f"; done)
CORE_ENVS=pip-23.2.1,pip-25.3,py38-pip-25.0.1,py39-pip-26.0.1,py310-pip-26.3,py312-pip-26.3,py313-pip-26.3
.venv-tools/bin/tox -e lint
# Alone, an environment keeps two cores busier with four workers than with two.
PEEP_HOOK_TEST_WORKERS=4 .venv-tools/bin/tox -e pip-26.3
# shellcheck disable=SC2086  # one argument per option
PEEP_HOOK_TEST_WORKERS=4 .venv-tools/bin/tox -e pip-20.3.4 -- $IGNORED
# slow first: one long pytest process beside the others (its own -m wins).
exec .venv-tools/bin/tox -p 3 -e "slow,$CORE_ENVS" -- -m core

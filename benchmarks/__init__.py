"""peep-hook's benchmarks: run them with ``python benchmarks/run.py`` (see its docstring).

- ``run``: the command line, and the order of a run;
- ``harness``: timing children, alternating variants, statistics, plans, and
  peep-hook built from the working tree or a git ref;
- ``world``: the wheelhouse, the hooked and unhooked venvs, the local index,
  the archives and the requirements files the benchmarks use;
- ``cases``: the benchmarks, one module per family;
- ``tables``: the text table and the reStructuredText report;
- ``realworld``: the real-world benchmark's archives from PyPI.
"""

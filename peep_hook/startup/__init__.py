"""Start-up: the standard library only, and never raising.

Runs in every Python process that imports pip (the bootstrap) or starts under
the global hook (sitecustomize, virtualenv's seeding). Importing pip or wrapt
here is allowed only inside functions that run once a fetching pip command
starts. tests/test_layout.py checks this.
"""

import sys

from peep_hook.commands.cli import main

# Guarded: verify --deep's pool, where processes are spawned, imports this module again.
if __name__ == "__main__":
    sys.exit(main())

import sys

from peep_hook.cli import main

sys.exit(main())

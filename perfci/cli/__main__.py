"""`python -m perfci.cli`: the same as the `perfci` command."""

import sys

from perfci.cli import main

sys.exit(main())

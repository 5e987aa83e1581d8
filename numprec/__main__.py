"""`python -m numprec ...` is the `numprec` command."""
import sys

from .cli import main

sys.exit(main())

"""`python -m knetlike.data ...`: see knetlike.data.cli."""
import sys

from .cli import main

sys.exit(main())

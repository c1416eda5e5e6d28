import sys

from generation.cli import main

sys.exit(main())

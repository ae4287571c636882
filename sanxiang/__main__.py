import sys

from sanxiang.cli import main

sys.exit(main())

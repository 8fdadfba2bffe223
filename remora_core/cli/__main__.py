"""``python -m remora_core.cli``: the ``remora`` command."""

import sys

from remora_core.cli import main

sys.exit(main())

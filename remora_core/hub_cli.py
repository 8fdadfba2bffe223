"""``python -m remora_core.hub_cli``: the first module name of ``remora-hub`` (now
``remora_core.cli.hub``), kept for scripts and running hubs that spawn it."""

import sys

from remora_core.cli.hub import main

if __name__ == "__main__":
    sys.exit(main())

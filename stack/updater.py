"""Swift's container updater reading the stack's own ``swift.conf``, sweeping in its own process.

``swift-container-updater`` validates ``/etc/swift/swift.conf`` before it reads ``swift_dir`` from its config, so on
a machine without ``/etc/swift`` it exits at once and account listings never show object counts. This runs the same
updater after pointing Swift at the stack's directory: ``python -m stack.updater <container.conf> <swift_dir>``.

Swift's daemon forks a child for every sweep; the child's start and exit cost about half a second of CPU, so a
sweep every second took half a CPU for as long as the stack ran (a quarter of this 2-CPU machine, under every Swift
test and benchmark). The stack's few containers are swept in this process instead (``run_once``: about 10 ms of CPU),
every ``interval`` seconds of the config.
"""

from __future__ import annotations

import logging
import sys
import time

from swift.common import utils
from swift.common.utils import readconf
from swift.container.updater import ContainerUpdater

log = logging.getLogger(__name__)


def main(conf_file: str, swift_dir: str) -> None:
    """Sweep the containers forever, every ``interval`` seconds of the config's ``[container-updater]``."""
    utils.set_swift_dir(swift_dir)
    conf = readconf(conf_file, "container-updater")
    updater = ContainerUpdater(conf)
    interval = float(conf.get("interval", 300))
    while True:
        began = time.monotonic()
        try:
            updater.run_once()
        except Exception:  # a sweep that failed is tried again at the next one, as Swift's own daemon does
            log.exception("container update sweep failed")
        time.sleep(max(0.0, interval - (time.monotonic() - began)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Swift's container updater reading the stack's own ``swift.conf``.

``swift-container-updater`` validates ``/etc/swift/swift.conf`` before it reads ``swift_dir`` from its config, so on
a machine without ``/etc/swift`` it exits at once and account listings never show object counts. This runs the same
daemon after pointing Swift at the stack's directory: ``python -m stack.updater <container.conf> <swift_dir>``.
"""

from __future__ import annotations

import sys

from swift.common import utils
from swift.common.daemon import run_daemon
from swift.container.updater import ContainerUpdater


def main(conf_file: str, swift_dir: str) -> None:
    """Run the updater forever (every ``interval`` seconds of its config)."""
    utils.set_swift_dir(swift_dir)
    run_daemon(ContainerUpdater, conf_file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Entry point, in this order: the bundle's libVLC (when frozen), crash hook, arguments, paths,
logging, then the command."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from kapsession.frozen import point_at_bundled_libvlc

    point_at_bundled_libvlc()  # before anything imports vlc
    from kapsession.logs import install_excepthook, setup_logging

    install_excepthook()
    from kapsession import cli

    args = cli.parse(argv)
    paths = cli.paths_for(args)
    setup_logging(paths.log_file, verbose=args.verbose)
    return cli.run(args, paths)


if __name__ == "__main__":
    sys.exit(main())

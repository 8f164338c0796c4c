"""Entry point, in this order: the bundle's libVLC (when frozen), crash hook, arguments, paths,
logging, then the command."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

EXIT_READER_GONE = 141  # as a shell reports a command ended by SIGPIPE (128 + 13)


def main(argv: Sequence[str] | None = None) -> int:
    from kapsession.frozen import point_at_bundled_libvlc

    point_at_bundled_libvlc()  # before anything imports vlc
    from kapsession.logs import install_excepthook, setup_logging

    install_excepthook()
    from kapsession import cli

    args = cli.parse(argv)
    paths = cli.paths_for(args)
    setup_logging(paths.log_file, verbose=args.verbose)
    try:
        code = cli.run(args, paths)
        # Flush here, not at interpreter exit: output still in the buffer would otherwise meet
        # a reader that has gone away during shutdown, where the error can no longer be caught.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader of the output went away (`kapsession sessions | head`): nothing is wrong
        # with the command. Point stdout at /dev/null so Python's last flush cannot fail too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_READER_GONE


if __name__ == "__main__":
    sys.exit(main())

"""Entry point, in this order: the bundle's libVLC (when frozen), crash hook, arguments, paths,
logging, then the command.

Python's cyclic garbage collector is held off from the start: the GUI's start-up allocates
hundreds of thousands of long-lived objects (Qt, SQLAlchemy, the models), and collecting while
they are made only scans them again and again (about 60 ms of a start). The GUI turns it back
on once its start screen is ready (`kapsession.ui.startup`), the other commands before they
run (`cli.run`)."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

EXIT_READER_GONE = 141  # as a shell reports a command ended by SIGPIPE (128 + 13)


def main(argv: Sequence[str] | None = None) -> int:
    gc.disable()  # until start-up is over: see above
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
        if sys.stdout is not None:  # None when started with standard output closed
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

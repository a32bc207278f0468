"""Run a program and record its peak resident memory: ``python rss.py OUT PROGRAM [ARGS...]``.

The wrapper execs nothing itself: it spawns the program with this process's file descriptors (so a
closed stdin or stdout stays closed), waits for it with ``wait4`` and writes the child's peak RSS in KiB
to OUT; it then ends as the program did (the same exit code, or the same signal). Standard library
only, so it runs from any folder without the repository on ``sys.path``.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    out, program = argv[0], argv[1:]
    pid = os.posix_spawn(program[0], program, os.environ)
    # The program's own SIGINT/SIGTERM handling decides its fate; the wrapper only waits for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status, usage = os.wait4(pid, 0)
    Path(out).write_text(str(usage.ru_maxrss))
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

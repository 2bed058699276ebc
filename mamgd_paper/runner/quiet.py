"""Drop the start-up lines that TensorFlow and the Jupyter kernel print.

No environment variable silences TensorFlow's pre-initialisation absl lines
("All log messages before absl::InitializeLog() ...", "oneDNN custom
operations are on", "Could not find cuda drivers"): :func:`quiet_stderr`
filters this process's file descriptor 2 (which child processes, such as a
notebook's kernel, inherit) line by line through :data:`NOISE`. Warnings and
errors pass unchanged. Standard library only.

As a command, it runs a module, or a script given by its ``.py`` path, with
the filter on::

    python -m mamgd_paper.runner.quiet mamgd_paper.audit --figures-dir figures
    python -m mamgd_paper.runner.quiet benchmarks/optimizer_speed.py
"""

import contextlib
import os
import re
import runpy
import sys
import threading

#: Start-up lines of TensorFlow (absl's pre-initialisation info lines) and of
#: the kernel (and its shutdown line) that no environment variable turns off: the runner drops them
#: from its standard error and from the executed notebooks. Warnings and
#: errors (absl ``W``/``E`` lines) are kept.
NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|I\d{4} \d+:\d+:\d+\.\d+ +\d+ [\w.]+:\d+\] "
    r"|To enable the following instructions: [\w ,.]+ in other operations, rebuild "
    r"TensorFlow with the appropriate compiler flags\.$"
    r"|\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption"
    # jupyter_client interrupts every kernel it shuts down (SIGINT, then the
    # shutdown request): after a successful run the kernel may log that too
    r"|\[IPKernelApp\] ERROR \| KeyboardInterrupt caught in kernel)")


#: Set when the run is being stopped (Ctrl-C, SIGTERM): from then on the
#: filter drops everything, since what the kernel and its transport print while
#: they are torn down (their KeyboardInterrupt, ZMQError and DeadKernelError
#: tracebacks) is the stop itself, not news; the runner prints one line instead.
STOPPING = threading.Event()


@contextlib.contextmanager
def quiet_stderr():
    """Filter file descriptor 2 (this process's and the kernel's, which
    inherits it) through :data:`NOISE`; yields a stream on the real stderr.

    No environment variable silences TensorFlow's pre-initialisation absl
    lines, so they are dropped on the way, line by line; everything else
    passes unchanged.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8",
                         errors="replace")
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward():
        with os.fdopen(read_end, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not STOPPING.is_set() and not NOISE.match(line):
                    terminal.write(line)
                    terminal.flush()

    thread = threading.Thread(target=forward, daemon=True)
    thread.start()
    try:
        yield terminal
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        thread.join(timeout=5)
        terminal.flush()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print("usage: python -m mamgd_paper.runner.quiet MODULE|SCRIPT.py [ARGS...]",
              file=sys.stderr)
        return 2
    target, sys.argv = argv[0], argv
    with quiet_stderr():
        try:
            if target.endswith(".py"):
                runpy.run_path(target, run_name="__main__")
            else:
                runpy.run_module(target, run_name="__main__", alter_sys=True)
        except SystemExit as exit_:
            code = exit_.code
            return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

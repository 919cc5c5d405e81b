"""Run a module as `python -m` would, counting its function calls between two signals.

    python -m bench.profiled OUT -m gateway.cli serve --port 8000

SIGUSR1 starts `cProfile` in the main thread (the event loop's), SIGUSR2 stops it and writes the
statistics to OUT (`pstats` format). Start-up and warm-up stay out of the count, which a plain
`python -m cProfile` would include. For `bench.call_counts`, not for serving: profiling makes every
Python call several times slower.
"""

from __future__ import annotations

import cProfile
import os
import runpy
import signal
import sys
from types import FrameType


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        raise SystemExit("usage: python -m bench.profiled OUT -m MODULE [ARGS...]")
    out, module = sys.argv[1], sys.argv[3]
    profiler = cProfile.Profile()

    def start(_signum: int, _frame: FrameType | None) -> None:
        profiler.enable()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(f"{out}.part")
        os.replace(f"{out}.part", out)  # whole when it appears

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = [module, *sys.argv[4:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()

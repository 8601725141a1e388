"""Start and seed the stack, save its state for VIO_REALOS_ATTACH, and keep it up until Ctrl-C / SIGTERM.

    .venv/bin/python -m tests.realopenstack.up /tmp/realos.json
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .seed import seed
from .stack import HERE, Stack


def main() -> None:
    state_file = Path(sys.argv[1])
    venv = subprocess.run(["bash", str(HERE / "build-venv.sh")], check=True, capture_output=True,
                          text=True).stdout.split()[-1]
    stack = Stack(Path(venv))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        stack.start()
        t = time.monotonic()
        seeded = seed(stack)
        stack.say(f"seeded in {time.monotonic() - t:.1f} s")
        stack.save(state_file, seeded=dataclasses.asdict(seeded))
        stack.say(f"up; state in {state_file}; root {stack.root}")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        if os.environ.get("VIO_REALOS_KEEP"):
            stack.say(f"kept {stack.root}")
        else:
            stack.cleanup()


if __name__ == "__main__":
    main()

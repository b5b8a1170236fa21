"""slk-lab: run a scenario. `scripts/slk-lab SCENARIO --help` for its options."""

import argparse
import sys
import time

from . import bench, deploy, matrix, modules, oom, soak
from .guest import LabError

SCENARIOS = {"matrix": matrix, "bench": bench, "deploy": deploy, "modules": modules, "oom": oom, "soak": soak}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="slk-lab", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    for name, mod in SCENARIOS.items():
        mod.add_arguments(sub.add_parser(name, help=mod.__doc__.splitlines()[0],
                                         description=mod.__doc__,
                                         formatter_class=argparse.RawDescriptionHelpFormatter))
    a = ap.parse_args(argv)
    t0 = time.monotonic()

    def log(msg):
        print("slk-lab %s [%5.1fs]: %s" % (a.command, time.monotonic() - t0, msg),
              file=sys.stderr, flush=True)
    try:
        return SCENARIOS[a.command].run(a, log)
    except LabError as e:
        print("slk-lab %s: error: %s" % (a.command, e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

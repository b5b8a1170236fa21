"""soak: the exporter for a long time under load, on this host (root).

Runs `slableak export` for --seconds under a churn load in the followed cache
(holder churn-kmalloc: kmalloc-2k) plus a held leak (holder kmalloc --held),
while stacks turn over: every --turnover-pause seconds `holder paths` sends on
the next --turnover-paths of its 34 distinct kernel paths into kmalloc-2k, so
each path is reused only after it went idle, and with a small --max-stacks the
store must see several times its size go through. Samples the exporter at each
file it writes and fails if anything drifts upward that should stay flat: its
resident memory, open fds, BPF map use, stack store entries, the held leak's
size (judge_soak.py; drift = median of the last quarter of the samples minus
that of the first). Also fails on a textfile write error, a store-full drop, or
an exporter that does not exit 0 on SIGTERM. Prints a summary table and keeps
every sample in OUT/samples.csv.

The held count is of every kmalloc-2k object under netlink_sendmsg on the
host: another process doing the same (an integration test's holder) adds to
it. CI runs the soak alone, so --held-noise-pct is 0 there; on a shared
machine raise it. A sample below the band always fails."""

import csv
import dataclasses
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from . import judge_soak
from .guest import REPO, LabError
from .host import proc_figures, wait_line, wait_ready


LIMITS = [f for f in dataclasses.fields(judge_soak.Limits) if "help" in f.metadata]


def add_arguments(ap):
    ap.add_argument("--seconds", type=int, default=600, help="sampling time, after the setup (600)")
    ap.add_argument("--interval", type=int, default=5, help="export --interval, seconds (5)")
    ap.add_argument("--churn", default="churn-kmalloc", choices=("churn-kmalloc", "churn"),
                    help="holder load: churn-kmalloc (kmalloc-2k, followed) or churn (msg_msg-2k)")
    ap.add_argument("--stack-idle", type=int, default=5, help="export --stack-idle, seconds (5)")
    ap.add_argument("--turnover-paths", type=int, default=4, help="paths per turnover step (0: none)")
    ap.add_argument("--turnover-pause", type=int, default=10, help="seconds between steps (10): 34 paths "
                    "cycle in ~85 s, longer than a stack takes to retire at 10 min (2 epochs of 34 s)")
    for f in LIMITS:  # the judge's limits
        ap.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default,
                        help="%s (%g)" % (f.metadata["help"], f.default))
    ap.add_argument("--slableak", default=str(REPO / "build/slableak"), help="slableak binary (build/slableak)")
    ap.add_argument("--holder", default=str(REPO / "build/holder"), help="holder binary (build/holder)")
    ap.add_argument("--out", help="where samples.csv and the logs go (default: a new /tmp/slableak-soak.*)")


def limits(a):
    return judge_soak.Limits(turnover=a.turnover_paths > 0, **{f.name: getattr(a, f.name) for f in LIMITS})


class Load:
    """The churn, the held leak and the turnover, each stopped in stop()."""

    def __init__(self, a, out):
        self.a, self.out, self.procs, self.stopping = a, out, [], threading.Event()
        self.turnover = None

    def holder(self, name, *args, wait_s):
        f = open(self.out / (name + ".out"), "w")
        p = subprocess.Popen([self.a.holder, *args], stdin=subprocess.PIPE, stdout=f, stderr=subprocess.STDOUT)
        f.close()
        self.procs.append(p)
        wait_line(self.out / (name + ".out"), "ready", wait_s, p)
        return p

    def start(self):
        self.churn = self.holder("churn", self.a.churn, "0", wait_s=30)
        # The held leak, after the exporter attached so that it sees every allocation.
        self.holder("held", "kmalloc", str(self.a.held), wait_s=120)
        if self.a.turnover_paths > 0:
            self.turnover = threading.Thread(target=self._turnover, daemon=True)
            self.turnover.start()

    def _turnover(self):
        # A few new kernel paths every pause (each holder sends and exits); a
        # path comes back only after the others, long after it went idle.
        i = 0
        with open(self.out / "turnover.err", "a") as err:
            while not self.stopping.is_set():
                subprocess.run([self.a.holder, "paths", str(i), str(self.a.turnover_paths)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
                i += self.a.turnover_paths
                self.stopping.wait(self.a.turnover_pause)

    def stop(self):
        """Stops everything (held first, then the churn); the churn's op count."""
        self.stopping.set()
        if self.turnover:
            self.turnover.join()
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    p.stdin.write(b"quit\n")
                    p.stdin.close()
                except OSError:
                    pass
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        ops = [l.split()[1] for l in (self.out / "churn.out").read_text(errors="replace").splitlines()
               if l.startswith("ops ")]
        return int(ops[-1]) if ops else 0


def sample_loop(a, exporter, load, prom):
    """One row per written file until --seconds passed."""
    rows, last_ts, start = [], None, time.monotonic()
    while time.monotonic() - start < a.seconds:
        if exporter.poll() is not None:
            raise LabError("the exporter died (exit %s): see %s" % (exporter.returncode, a.out / "exporter.log"))
        if load.churn.poll() is not None:
            raise LabError("the churn load died: see %s" % (a.out / "churn.out"))
        try:
            text = prom.read_text()
        except FileNotFoundError:
            text = ""
        ts = [l.split()[1] for l in text.splitlines() if l.startswith("slableak_last_update_timestamp_seconds ")]
        if ts and ts[0] != last_ts:
            last_ts = ts[0]
            row = {"t": int(time.monotonic() - start), **proc_figures(exporter.pid), **judge_soak.sample(text)}
            rows.append(row)
        time.sleep(1)
    return rows


def write_csv(path, rows):
    def cell(k, v):
        return "%.2f" % v if k == "cpu_s" else "%d" % v if v == v else "nan"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=judge_soak.COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: cell(k, r[k]) for k in judge_soak.COLUMNS})


def run(a, log):
    if os.geteuid() != 0:
        raise LabError("run as root (the exporter loads BPF programs)")
    for b in (a.slableak, a.holder):
        if not os.access(b, os.X_OK):
            raise LabError("%s missing: build first (scripts/setup.sh)" % b)
    a.out = Path(a.out or tempfile.mkdtemp(prefix="slableak-soak."))
    textdir = a.out / "textfile"
    textdir.mkdir(parents=True, exist_ok=True)
    log("%ds, interval %ds, sample-every %d, holder %s + kmalloc %d, turnover %d paths / %ds through "
        "--max-stacks %d; output in %s" % (a.seconds, a.interval, a.sample_every, a.churn, a.held,
                                            a.turnover_paths, a.turnover_pause, a.max_stacks, a.out))
    rfd, wfd = os.pipe()
    with open(a.out / "exporter.log", "w") as elog:
        exporter = subprocess.Popen(
            [a.slableak, "export", "--interval", "%ds" % a.interval, "--sample-every", str(a.sample_every),
             "--max-stacks", str(a.max_stacks), "--stack-idle", "%ds" % a.stack_idle,
             "--textfile-dir", str(textdir), "--listen", "127.0.0.1:0", "--ready-fd", str(wfd)],
            stdin=subprocess.DEVNULL, stdout=elog, stderr=subprocess.STDOUT, pass_fds=(wfd,))
    os.close(wfd)
    load = Load(a, a.out)
    try:
        wait_ready(rfd, exporter, a.out / "exporter.log")
        load.start()
        # Two intervals: the held set is then in a written file.
        time.sleep(2 * a.interval + 1)
        rows = sample_loop(a, exporter, load, textdir / "slableak.prom")
    finally:
        os.close(rfd)
        ops = load.stop()
        if exporter.poll() is None:
            exporter.send_signal(signal.SIGTERM)
        try:
            exit_status = exporter.wait(timeout=60)
        except subprocess.TimeoutExpired:
            exporter.kill()
            exit_status = exporter.wait()
    write_csv(a.out / "samples.csv", rows)
    lim = limits(a)
    checks = judge_soak.judge(rows, exit_status, lim)
    lines = judge_soak.report(rows, checks, ops, a.seconds, lim)
    print("\n".join(lines), flush=True)
    return 0 if lines[-1] == "soak: passed" else 1

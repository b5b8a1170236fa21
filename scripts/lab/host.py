"""Processes on this host (no guest): what the soak and the benchmark start,
wait for and stop. Every process goes through ``Procs``, which records it and
stops only what it started: SIGINT, then SIGTERM, then SIGKILL."""

import os
import select
import signal
import subprocess
import time
from pathlib import Path

from .guest import LabError


def wait_line(path, prefix, seconds, proc):
    """Waits until a line of PATH starts with PREFIX while PROC runs; the time it was seen."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if any(l.startswith(prefix) for l in Path(path).read_text(errors="replace").splitlines()):
            return time.monotonic()
        if proc.poll() is not None:
            break
        time.sleep(0.005)
    raise LabError("no '%s' in %s after %d s:\n%s" % (prefix, path, seconds,
                                                    Path(path).read_text(errors="replace")[-2000:]))


def wait_ready(fd, proc, log_path, seconds=30):
    """Reads the --ready-fd line (slableak's JSON object) within SECONDS; the time it came."""
    end, got = time.monotonic() + seconds, b""
    while time.monotonic() < end and not got.endswith(b"\n"):
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            got += chunk
        elif proc.poll() is not None:
            break
    if b'"ready":true' not in got:
        raise LabError("no ready line (--ready-fd) within %d s:\n%s"
                       % (seconds, Path(log_path).read_text(errors="replace")[-2000:]))
    return time.monotonic()


def proc_figures(pid, clk=os.sysconf("SC_CLK_TCK")):
    """A process's resident and peak KiB, open fds and CPU time (ticks and seconds), from /proc."""
    status = dict(l.split(":", 1) for l in Path("/proc/%d/status" % pid).read_text().splitlines() if ":" in l)
    fds = len(os.listdir("/proc/%d/fd" % pid))
    stat = Path("/proc/%d/stat" % pid).read_text()
    fields = stat[stat.rindex(")") + 2:].split()   # after "pid (comm) "; utime, stime: fields 14, 15
    ticks = int(fields[11]) + int(fields[12])
    return {"rss_kb": int(status["VmRSS"].split()[0]), "hwm_kb": int(status["VmHWM"].split()[0]),
            "fds": fds, "cpu_ticks": ticks, "cpu_s": ticks / clk}


class Procs:
    """The processes a scenario started, by Popen; stop() and stop_all() signal only those."""

    def __init__(self, log):
        self.log, self.started = log, []

    def start(self, argv, out, err=None, ready_fd=False, **kw):
        """Starts ARGV, stdout to the file OUT, stderr to the file ERR (or OUT).
        READY_FD: appends '--ready-fd N' and returns (proc, the pipe's read end)."""
        rfd = wfd = None
        if ready_fd:
            rfd, wfd = os.pipe()
            argv = [*argv, "--ready-fd", str(wfd)]
            kw["pass_fds"] = (wfd,)
        with open(out, "w") as fo, open(err or os.devnull, "w") as fe:
            p = subprocess.Popen(argv, stdin=kw.pop("stdin", subprocess.DEVNULL), stdout=fo,
                                 stderr=fe if err else subprocess.STDOUT, **kw)
        self.started.append(p)
        if wfd is None:
            return p
        os.close(wfd)
        return p, rfd

    def stop(self, p, limit=30):
        """SIGINT to P, up to LIMIT s for it to exit, then SIGTERM, then SIGKILL.
        (seconds from SIGINT to exit, exit status)."""
        t0 = time.monotonic()
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.log("pid %d ignored SIGINT for %ss: SIGTERM" % (p.pid, limit))
            p.terminate()
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        took = time.monotonic() - t0
        self.started.remove(p)
        return took, p.returncode

    def stop_all(self):
        for p in self.started:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                time.sleep(0.5)
                if p.poll() is None:
                    p.kill()
                p.wait()
        self.started = []

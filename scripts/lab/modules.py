"""Scenario: modules loaded after the exporter started are symbolized.

slableak export attaches and drops CAP_SYSLOG; then the guest (files/modules-
init) loads Debian's tun module and holds COUNT opens of /dev/net/tun (a
tun_file each, kmalloc'd under tun_chr_open [tun]); the textfile must name that
frame. Then tun is unloaded, dummy loaded into the freed space, tun loaded
again at another address, and the same is checked. Judged by
judge_modules.modules_run; one boot per kernel.
"""

import tempfile
from pathlib import Path

from . import build, debian, judge_modules, summary
from .guest import ARCHES, FILES, Guest, boot, initramfs, shell_conf

# The tun_file's size moves between kernels (about 2 KiB here): every class it
# may land in, plain and accounted.
CACHES = "kmalloc-1k kmalloc-2k kmalloc-4k kmalloc-cg-1k kmalloc-cg-2k kmalloc-cg-4k"
TIMEOUTS = {"amd64": (300, 60), "arm64": (900, 300)}  # seconds per boot, to attach


def add_arguments(ap):
    ap.add_argument("--arch", choices=sorted(ARCHES), default="amd64")
    ap.add_argument("--kernels", default="5.10 6.18", help="series to boot (kernels.list)")
    ap.add_argument("--slableak", help="static slableak (default: build it)")
    ap.add_argument("--holder", help="static holder (default: build tests/support/holder.c)")
    ap.add_argument("--count", type=int, default=500, help="tun opens held per round")
    ap.add_argument("--tolerance", type=float, default=2.0, help="allowed deviation, %%")
    ap.add_argument("--wait", type=int, default=60, help="seconds for the textfile to name the frame")
    ap.add_argument("--out", help="keep logs in OUT/<series> (default: a temporary directory)")


def run(a, log):
    arch = ARCHES[a.arch]
    timeout, attach = TIMEOUTS[a.arch]
    kernels = {s: debian.kernel(s, a.arch, False, log) for s in a.kernels.split()}
    tmp = tempfile.TemporaryDirectory(prefix="slk-lab-modules.")
    t = Path(tmp.name)
    slableak = a.slableak or build.static_target(arch, "slableak", t, log)
    holder = a.holder or build.static_c(arch, "tests/support/holder.c", t)
    conf = {"LAB_DATA_DEV": "/dev/ttyS1" if arch.data_uart else "/dev/console",
            "CACHES": CACHES, "COUNT": a.count, "WAIT_SECS": a.wait, "ATTACH_TIMEOUT": attach}
    bb = debian.busybox(a.arch, False, log)
    logdir = Path(a.out).resolve() if a.out else t / "logs"
    p = {"count": a.count, "tolerance": a.tolerance, "timeout": timeout}
    failed, lines = [], []
    for series, k in kernels.items():
        name = series.split("@")[0]
        files = {"/init": FILES / "modules-init", "/lab.conf": shell_conf(conf),
                 "/payload/slableak": Path(slableak), "/payload/holder": Path(holder)}
        # tun and dummy depend on no other module (debian._extract_modules).
        mods = k.modules(("tun", "dummy"), log)
        files.update({"/modules/" + host.name: host for host in mods.values()})
        initrd = initramfs(t / ("initrd-%s.gz" % name), arch, files, bb)
        g = Guest(name=name, kernel=k.vmlinuz, out=logdir / name, arch=arch, initrd=initrd,
                  timeout=timeout)
        for r in boot([g], log):
            v = judge_modules.modules_run(p, r.console, r.blocks, r.returncode, r.timed_out)
            print("MODULES-RESULT arch=%s series=%s %s total=%.1fs" % (
                a.arch, name, " ".join("%s=%s" % (key, v.get(key, "-")) for key in (
                    "kernel", "status", "cache", "held", "frame", "addresses", "detail")), r.seconds))
            lines.append("%-5s %-27s %-4s %s total=%6.1fs" % (name, v["kernel"], v["status"],
                                                               v["detail"], r.seconds))
            if v["status"] != "PASS":
                failed.append(name)
                for n in v["notes"]:
                    print("  " + n)
                print("  logs: %s" % g.out if a.out else "  (rerun with --out DIR to keep the logs)")
    title = "module symbolization summary (%s, %d objects per round)" % (a.arch, a.count)
    return summary.per_kernel(title, lines, failed)

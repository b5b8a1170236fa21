"""Scenario: the kernel matrix. slableak snapshot in a busybox guest
(files/matrix-init) on Debian cloud kernels, judged by judge.matrix_run.

  hold   3000 objects each of plain kmalloc (netlink skbs), an accounted kind
         (pipe rings) and SysV messages, each checked against the cache whose
         /proc/slabinfo grew while its holder started
  named  3000 AF_UNIX socketpairs in sock_inode_cache under __sys_socketpair
         (before 6.0 with --method derived: the one-line refusal is the PASS)
  books  hold's kinds plus sock, and `holder churn-kmalloc` churning the held
         kmalloc path, on kernels booted with slub_debug=U on the followed
         caches: slableak's objects per stack against the kernel's own
         alloc_traces (alloc_calls on 5.10), judge.books
  (every scenario with a report prints fp=, the share of tracked allocations
  served from stack fingerprints, and FAILs below the scenario's fp_floor)
  large  3000 "user" keys of 20000 bytes: kmallocs above kmalloc-8k, followed as
         kmalloc-large under user_preparse, and the kernel's own figure (Slab:
         minus the slab caches' pages) grown by their pages
  cost   churn untraced / floor / exact / exact --no-stack-cache, rotated, under
         -icount: added ns per kmalloc+kfree pair and its ratio to the floor
"""

import tempfile
import time
from pathlib import Path

from . import build, debian, judge, summary
from .guest import ARCHES, Guest, LabError, boot, initramfs, shell_conf, FILES

# Scenario definitions: what differs between them is data. fp_floor: the least
# share of tracked allocations served from stack fingerprints (fp= in every
# result) where slableak has them on. 0 (printed, not judged) in hold and named:
# a holder's 3000 allocations can all be made before userspace has learned its
# call site (two samples 0.25 s apart; a holder is ready 0.13-0.15 s after it
# starts on an idle host), so their share measures the host's speed.
SCENARIOS = {
    "hold": dict(fp_floor=0.0, kinds="kmalloc cg msg", caches="kmalloc-2k kmalloc-cg-2k msg_msg-2k",
                 kernels="5.10 6.1 6.12 6.18"),
    "named": dict(fp_floor=0.0, kinds="sock", caches="sock_inode_cache", kernels="5.10 6.1 6.12 6.18"),
    "large": dict(fp_floor=0.0, kinds="large", caches="kmalloc-large", cache="kmalloc-large", func="user_preparse",
                  kernels="5.10 6.1 6.12 6.18"),
    "cost": dict(kinds="", caches="msg_msg-2k", kernels="6.18", timeout=1800, icount=True),
    # The kernel's own books (slub_debug=U: every object's allocation stack) on
    # the caches slableak follows; KFENCE off, as its objects are in no books.
    "books": dict(kinds="kmalloc cg msg sock",
                  caches="kmalloc-2k kmalloc-cg-2k msg_msg-2k sock_inode_cache",
                  kernels="5.10 6.1 6.12 6.18", books=True, fp_floor=0.1),
}
# arm64 under TCG is several times slower (pointer authentication in every
# kernel function on 6.1+): boot 23 s and load+attach 12 s on 6.18 on a quiet
# host, 55-105 s and 40-82 s on a loaded one; a holder's start-up 1.4-16 s, so
# the snapshot ends by SIGINT once the holders are ready (stop=signal).
# The snapshot ends by SIGINT once the last holder is ready (stop=signal) on both:
# under a load average of 25 on 2 cores the three holders took 6.5 s after attach
# on x86-64 too, longer than a fixed 6 s --duration.
ARCH_DEFAULTS = {"amd64": dict(timeout=300, attach_timeout=60, stop="signal"),
                 "arm64": dict(timeout=900, attach_timeout=300, stop="signal")}


def add_arguments(ap):
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="hold")
    ap.add_argument("--arch", choices=sorted(ARCHES), default="amd64")
    ap.add_argument("--kernels", help="series to boot, e.g. \"5.10 6.18\" (kernels.list; "
                    "SERIES@SUITE for one not listed); default: the scenario's")
    ap.add_argument("--slableak", help="static slableak (default: build it)")
    ap.add_argument("--holder", help="static holder (default: build tests/support/holder.c)")
    ap.add_argument("--churn", help="cost: static churn (default: build bench/churn.c)")
    ap.add_argument("--floor", help="cost: static bench/floor (default: build it)")
    ap.add_argument("--kinds", help="hold: holder kinds (kmalloc cg msg)")
    ap.add_argument("--caches", help="caches slableak follows (those the kernel has)")
    ap.add_argument("--cache", default="sock_inode_cache", help="named: the cache checked")
    ap.add_argument("--func", default="__sys_socketpair", help="named: frame expected (regex)")
    ap.add_argument("--count", type=int, default=3000, help="objects per holder")
    ap.add_argument("--tolerance", type=float, default=2.0, help="allowed deviation, %%")
    ap.add_argument("--fp-floor", type=float,
                    help="least share of tracked allocations whose stack came from a fingerprint, "
                    "where slableak has them on (default: the scenario's; docs/kernels.md says why)")
    ap.add_argument("--method", choices=("auto", "kfunc", "slab", "derived"), default="auto")
    ap.add_argument("--duration", help="snapshot --duration; implies --stop duration (default "
                    "6s there; a 1h backstop under --stop signal)")
    ap.add_argument("--stop", choices=("duration", "signal"), help="how the snapshot ends: SIGINT "
                    "once the last holder is ready (signal, default) or at the end of --duration")
    ap.add_argument("--timeout", type=int, help="seconds per boot (amd64 300, arm64 900, cost 1800)")
    ap.add_argument("--attach-timeout", type=int, help="seconds for slableak to attach")
    ap.add_argument("--memory", type=int, default=1024, help="guest MiB")
    ap.add_argument("--jobs", type=int, default=1, help="guests booted at once")
    ap.add_argument("--rounds", type=int, default=5, help="cost: rounds")
    ap.add_argument("--ops", type=int, default=20000, help="cost: churn ops per measurement")
    ap.add_argument("--out", help="keep logs in OUT/<series> (default: a temporary directory)")
    ap.add_argument("--refresh", action="store_true", help="re-resolve the newest kernels")
    ap.add_argument("--fetch-only", action="store_true", help="fetch kernels, print where, boot nothing")


def params(a):
    """The run's parameters: arguments over scenario over architecture defaults."""
    p = dict(ARCH_DEFAULTS[a.arch])
    p.update(SCENARIOS[a.scenario])
    for k in ("kernels", "kinds", "caches", "timeout", "attach_timeout", "stop", "duration",
              "fp_floor"):
        if getattr(a, k) is not None:
            p[k] = getattr(a, k)
    if a.duration is not None and a.stop is None:
        p["stop"] = "duration"  # an explicit --duration is when the report is taken
    if a.scenario == "named":
        p["caches"] = a.cache
    p["duration"] = p.get("duration") or ("1h" if p["stop"] == "signal" else "6s")
    p["kinds"] = p["kinds"].split()
    if a.fp_floor is not None and not 0.0 <= a.fp_floor <= 1.0:
        raise LabError("--fp-floor wants a share from 0 to 1, got %g" % a.fp_floor)
    bad = [k for k in p["kinds"] if a.scenario == "hold" and k not in judge.KIND_FUNCS]
    if bad:
        raise LabError("--kinds wants kmalloc, cg, msg, got '%s'" % " ".join(bad))
    p.update(scenario=a.scenario, arch=a.arch, method=a.method, count=a.count,
             tolerance=a.tolerance, cache=p.get("cache", a.cache), func=p.get("func", a.func),
             rounds=a.rounds, ops=a.ops)
    return p


def run(a, log):
    p = params(a)
    arch = ARCHES[a.arch]
    kernels = {s: debian.kernel(s, a.arch, a.refresh, log) for s in p["kernels"].split()}
    if a.fetch_only:
        for s, k in kernels.items():
            print("%-6s %s" % (s, k.dir))
        return 0
    tmp = tempfile.TemporaryDirectory(prefix="slk-lab-matrix.")
    t = Path(tmp.name)
    payload = {"slableak": a.slableak or build.static_target(arch, "slableak", t, log),
               "holder": a.holder or build.static_c(arch, "tests/support/holder.c", t)}
    if a.scenario == "cost":
        payload["churn"] = a.churn or build.static_c(arch, "bench/churn.c", t, "gnu11")
        payload["floor"] = a.floor or build.static_target(arch, "bench_floor", t, log)
    conf = {"LAB_DATA_DEV": "/dev/ttyS1" if arch.data_uart else "/dev/console",
            "SCENARIO": a.scenario, "KINDS": " ".join(p["kinds"]), "CACHES": p["caches"],
            "HOLDER_COUNT": a.count, "DURATION": p["duration"], "STOP": p["stop"],
            "METHOD": a.method, "ATTACH_TIMEOUT": p["attach_timeout"],
            "READY_TIMEOUT": p["timeout"] // 3, "RUN_TIMEOUT": p["timeout"] * 2 // 3,
            "ROUNDS": a.rounds, "OPS": a.ops, "COST_CACHE": p["caches"]}
    files = {"/init": FILES / "matrix-init", "/lab.conf": shell_conf(conf)}
    files.update({"/payload/" + n: Path(v) for n, v in payload.items()})
    initrd = initramfs(t / "initrd.gz", arch, files, debian.busybox(a.arch, a.refresh, log))
    logdir = Path(a.out).resolve() if a.out else t / "logs"
    guests = [Guest(name=s.split("@")[0], kernel=k.vmlinuz, out=logdir / s.split("@")[0],
                    arch=arch, initrd=initrd, memory_mib=a.memory, timeout=p["timeout"],
                    icount=p.get("icount", False), cmdline=books_cmdline(p))
              for s, k in kernels.items()]
    failed, lines = [], []
    for i in range(0, len(guests), max(1, a.jobs)):
        for r in boot(guests[i:i + max(1, a.jobs)], log):
            v = judge.matrix_run(p, r.console, r.blocks, r.returncode, r.timed_out)
            print(result_line(p, r.guest.name, v, r.seconds))
            if a.scenario == "cost":
                print("MATRIX-COST arch=%s series=%s kernel=%s rounds=%d ops=%d cache=%s %s" % (
                    a.arch, r.guest.name, v["kernel"], a.rounds, a.ops, p["caches"],
                    " ".join("%s=%s" % (k, v[k]) for k in v if k.endswith(("_ns", "_floor")))))
            lines.append("%-5s %-27s %-4s method=%-7s held=%s fp=%s load=%5ss total=%6.1fs" % (
                r.guest.name, v["kernel"], v["status"], v["method"], v["held"], v["fp"], v["load"],
                r.seconds))
            if a.scenario == "books":
                print("MATRIX-BOOKS arch=%s series=%s kernel=%s status=%s books=%s stacks=%s "
                      "worst=%s slot=%s kfence=%s" % (a.arch, r.guest.name, v["kernel"], v["status"],
                                                      v.get("books"), v.get("stacks"), v.get("worst"),
                                                      v.get("slot"), v.get("kfence")))
                lines[-1] += " books=%s stacks=%s worst=%s" % (v.get("books"), v.get("stacks"),
                                                                 v.get("worst"))
            if v["status"] != "PASS":
                failed.append(r.guest.name)
                for n in v["notes"]:
                    print("  " + n)
                print("  logs: %s" % r.guest.out if a.out else
                      "  (rerun with --out DIR to keep console.log, dmesg.txt, slableak.json)")
    title = "kernel matrix summary (%s, %s; %d objects per kind)" % (a.arch, a.scenario, a.count)
    return summary.per_kernel(title, lines, failed)


def books_cmdline(p):
    """Kernel parameters of the books scenario: SLUB keeps each object's
    allocation stack in the followed caches (names the kernel lacks are
    ignored), and KFENCE serves none of them."""
    if not p.get("books"):
        return ()
    return ("slub_debug=U," + ",".join(p["caches"].split()), "kfence.sample_interval=0")


def result_line(p, series, v, seconds):
    keys = ("kernel", "status", "method", "held", "func", "fp", "btf", "kfunc_sym")
    fields = ["arch=" + p["arch"], "series=" + series]
    fields += ["%s=%s" % (k, v.get(k, "-")) for k in keys]
    fields += ["expected=%d" % p["count"],
               "expected_func=" + ("per-kind" if p["scenario"] in ("hold", "books") else p["func"]),
               "boot=%ss" % v["boot"], "load=%ss" % v["load"], "holder_ready=" + v["holder_ready"],
               "slableak_done=" + v["slableak_done"], "total=%.1fs" % seconds, "detail=" + v["detail"]]
    return "MATRIX-RESULT " + " ".join(fields)

"""bench: what tracing costs, on this host (root, an otherwise idle machine).

Added ns per kmalloc+kfree pair next to the floor (empty programs) and bpftrace;
attach time, RSS, kernel map memory, program bodies, naming the cache (kfunc vs
slab walk), the miss cost with 1/16/64 followed caches, userspace CPU per
refresh (10k stacks), the daemon's CPU, a 1M-object scale run and the sampled
estimate's accuracy. Not a test: it prints figures, every one as "key value" in
OUT/figures.txt, and PASS/FAIL per target (docs/performance.md: the method and
how to read them; judge_bench.py: the statistics). Overhead: each round runs
every configuration once, the untraced churn included, in an order rotated by
one per round; a round another kmem tracer disturbed is left out while 5 clean
ones remain. Raw rows: OUT/overhead.tsv."""

import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections import namedtuple
from hashlib import sha1
from pathlib import Path

from . import judge_bench as jb
from .guest import REPO, LabError
from .host import Procs, proc_figures, wait_line, wait_ready

SECTIONS = ("attach", "overhead", "progs", "naming", "caches", "refresh", "daemon", "scale", "estimate")
BT_COUNT = "tracepoint:kmem:kmalloc { @n = count(); }"
# END clears the map so that bpftrace does not print (and symbolize) every
# still-live allocation of the machine at exit; it does not run before.
BT_STACKS = ("tracepoint:kmem:kmalloc { @a[args->ptr] = (args->bytes_alloc, kstack, nsecs); } "
             "tracepoint:kmem:kfree { delete(@a[args->ptr]); } END { clear(@a); }")
ESTIMATE_COUNT = 50000
Tracer = namedtuple("Tracer", "proc out err attach_ms kind")


def add_arguments(ap):
    ap.add_argument("--quick", action="store_true", help="5 rounds of 150k ops, no 1/16, 1/256 and exact-nocache, "
                    "30 s daemon, 15 refreshes, 3 estimate runs")
    for name, typ, default, what in (
            ("build-dir", str, str(REPO / "build"), "where slableak and bench/* are"),
            ("out", str, None, "keep raw results there (default: a new /tmp/slableak-bench.*)"),
            ("rounds", int, None, "alternating rounds (15; 5 with --quick)"),
            ("ops", int, None, "churn operations per measurement (300000; 150000 with --quick)"),
            ("cpu", int, 1, "CPU the churn is pinned to; tracers run on the others"),
            ("cache", str, "msg_msg-2k", "churned cache"),
            ("other-cache", str, "kmalloc-2k", "the untracked one for 'other'"),
            ("bytes", int, 1500, "message size that lands in --cache (msg_msg-1k, kmalloc-1k, 900 when someone "
                                 "else traces msg_msg-2k)"),
            ("daemon-secs", int, None, "daemon run (120; 30 with --quick)"),
            ("scale-count", int, 1000000, "objects held in the scale run"),
            ("estimate-runs", int, None, "sampled estimate runs (5; 3 with --quick)"),
            ("only", str, ",".join(SECTIONS), "comma-separated sections"),
            ("wait-quiet", int, 0, "first wait up to this many seconds for no other BPF program on kmem events and a "
                                   "1-min load below 0.5")):
        ap.add_argument("--" + name, type=typ, default=default, help=what + ("" if default is None else
                                                                            " (%(default)s)"))
    ap.add_argument("--no-build", action="store_true", help="use the binaries as they are (default: build them)")
    ap.add_argument("--baseline", default=None, help="an earlier build's slableak binary: adds exact-base (exact "
                    "mode of that build) to the overhead rounds and the program bodies, to compare a change with "
                    "what it replaces in one run")
    ap.add_argument("--workload", default="msg", choices=("msg", "udp"), help="what the churn does per op: msg "
                    "(msgsnd+msgrcv, msg_msg-2k on 6.11+) or udp (a loopback datagram sent and received: skb head "
                    "in kmalloc-2k at 1500 bytes; pass --cache kmalloc-2k --other-cache kmalloc-cg-2k)")
    ap.add_argument("--metric", default="cpu", choices=("cpu", "wall"), help="the churn figure the table is built "
                    "on: cpu (the churn thread's own CPU time, immune to preemption) or wall")


def _out(argv, check=True, **kw):
    """ARGV's stdout; with CHECK, a LabError naming it if it fails."""
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=kw.pop("stderr", subprocess.PIPE), text=True, **kw)
    if check and r.returncode:
        raise LabError("%s exited %d: %s" % (" ".join(map(str, argv)), r.returncode, (r.stderr or "")[-300:]))
    return r.stdout


def _sha1(path):
    return sha1(Path(path).read_bytes()).hexdigest()[:12]


class Bench:
    def __init__(self, a, log):
        self.a, self.log, self.procs = a, log, Procs(log)
        self.out = Path(a.out or tempfile.mkdtemp(prefix="slableak-bench."))
        self.logs = self.out / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.out / "bin").mkdir(exist_ok=True)
        self.kv = self.out / "figures.txt"
        self.kv.write_text("")
        n = len(os.sched_getaffinity(0))
        if n < 2:
            raise LabError("needs 2+ CPUs: the churn gets one, the tracers the rest")
        if a.cpu >= n:
            raise LabError("--cpu %d: this machine has %d CPUs" % (a.cpu, n))
        self.ncpu = n
        self.tracer_cpus = ",".join(str(c) for c in range(n) if c != a.cpu)
        self.hz = os.sysconf("SC_CLK_TCK")

    # ---------------------------------------------------------- output
    def say(self, *lines):
        print("\n".join(lines), flush=True)

    def add(self, result):
        lines, figs = result
        if lines:
            self.say(*lines)
        with open(self.kv, "a") as f:
            f.write(jb.figures_text(figs))

    # ---------------------------------------------------------- binaries and machine
    def binaries(self):
        a, build = self.a, Path(self.a.build_dir)
        if not a.no_build:
            with open(self.logs / "build.log", "w") as bl:
                if not (build / "CMakeCache.txt").exists() and subprocess.run(
                        ["cmake", "-S", str(REPO), "-B", str(build)], stdout=bl, stderr=bl).returncode:
                    raise LabError("cmake failed: %s" % (self.logs / "build.log"))
                if subprocess.run(["cmake", "--build", str(build), "-j2", "--target", "slableak", "bench_churn",
                                   "bench_holder", "bench_floor", "refresh_bench"], stdout=bl, stderr=bl).returncode:
                    raise LabError("build failed (someone editing?): see %s, retry, or --no-build"
                                   % (self.logs / "build.log"))
        bins = {"slableak": build / "slableak", **{n: build / "bench" / n for n in
                                                    ("churn", "holder", "floor", "refresh_bench")}}
        for name, path in bins.items():
            if not os.access(path, os.X_OK):
                raise LabError("no %s: build first (cmake -S . -B build && cmake --build build)" % path)
        # A private copy (the BPF object is embedded): a rebuild during the run
        # must not change the binary between rounds.
        self.slableak = str(self.out / "bin" / "slableak")
        shutil.copy2(bins["slableak"], self.slableak)
        self.built = bins["slableak"]
        self.churn_bin, self.holder_bin, self.floor, self.refresh_bench = (
            str(bins[n]) for n in ("churn", "holder", "floor", "refresh_bench"))
        self.bpftrace = shutil.which("bpftrace")

    def machine(self):
        mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
        model = next((l.split(": ", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
        virt = subprocess.run(["systemd-detect-virt"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True).stdout.strip() if shutil.which("systemd-detect-virt") else ""
        version = (_out([self.slableak, "--version"], check=False, stderr=subprocess.DEVNULL).splitlines() or [""])[0]
        bt = _out([self.bpftrace, "--version"], check=False, stderr=subprocess.DEVNULL).strip() if self.bpftrace else ""
        lines = ["== machine",
                 "kernel %s  cpus %d  mem %.1f GiB" % (platform.release(), self.ncpu, mem / 1048576),
                 "virt %s  cpu model: %s" % (virt or "unknown", model),
                 "slableak %s  built %s sha1 %s  bpf source sha1 %s" % (
                     version, time.strftime("%F %T", time.localtime(self.built.stat().st_mtime)),
                     _sha1(self.slableak), _sha1(REPO / "bpf/slableak.bpf.c")),
                 "bpftrace " + bt,
                 "churn on CPU %d, tracers on CPU %s; raw results in %s" % (self.a.cpu, self.tracer_cpus, self.out)]
        self.say(*lines)
        for i in range(0, self.a.wait_quiet, 5):
            load = float(open("/proc/loadavg").read().split()[0])
            if not self.foreign_kmem() and load < 0.5:
                break
            if i % 60 == 0:
                self.log("waiting for a quiet machine (load %s)" % load)
            time.sleep(5)
        foreign = self.foreign_kmem()
        if foreign:
            lines.append("WARNING: other BPF programs are attached to kmem events; every figure includes their cost:")
            lines += ["  " + l for l in foreign]
            self.say(*lines[6:])
        self.load = open("/proc/loadavg").read().split()[0]
        lines.append("load average at start: " + self.load)
        self.say(lines[-1])
        (self.out / "machine.txt").write_text("\n".join(lines) + "\n")

    # ---------------------------------------------------------- kernel state
    def bpftool(self, *args):
        return subprocess.run(["bpftool", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True).stdout

    def progs_json(self):
        return json.loads(self.bpftool("prog", "show", "-j") or "[]")

    def prog_ids(self, t):
        """The ids of tracer T's programs: another slableak has programs of the same names."""
        return {int(l.split()[1]) for fd in Path("/proc/%d/fdinfo" % t.proc.pid).iterdir()
                for l in fd.read_text(errors="replace").splitlines() if l.startswith("prog_id:")}

    def foreign_kmem(self):
        return jb.foreign_kmem(self.bpftool("perf", "list"), self.bpftool("link", "list"))

    def foreign_pids(self, me):
        return jb.foreign_pids(self.bpftool("perf", "list"), me)

    @contextlib.contextmanager
    def bpf_stats(self):
        """kernel.bpf_stats_enabled=1 for the block, then as it was (also on an interrupt)."""
        sysctl = Path("/proc/sys/kernel/bpf_stats_enabled")
        prev = sysctl.read_text().strip()
        sysctl.write_text("1")
        try:
            yield
        finally:
            sysctl.write_text(prev)

    # ---------------------------------------------------------- processes
    def tracer(self, name, argv, kind="slableak"):
        """Starts ARGV pinned to the tracer CPUs and waits until it is attached."""
        out, err = self.logs / (name + ".out"), self.logs / (name + ".out.err")
        argv = ["taskset", "-c", self.tracer_cpus, *argv]
        t0 = time.monotonic()
        if kind == "bpftrace":
            p = self.procs.start(argv, out, err)
            t1 = wait_line(out, "Attaching", 60, p)
            time.sleep(1)  # bpftrace: probes are live shortly after the line
        else:  # slableak and bench/floor: --ready-fd
            p, rfd = self.procs.start(argv, out, err, ready_fd=True)
            try:
                t1 = wait_ready(rfd, p, err, 60)
            finally:
                os.close(rfd)
        return Tracer(p, out, err, jb.ms_text(t1 - t0), kind)

    def figures(self, t):
        """proc_figures() of tracer T, which must still run."""
        try:
            return proc_figures(t.proc.pid)
        except (OSError, KeyError):  # gone, or a zombie without VmRSS
            raise LabError("%s exited before it was measured: %s" % (t.out.name, t.err.read_text()[-300:]))

    def stop(self, t, limit, what=None):
        """(ms from SIGINT to exit, exit status); with WHAT, (ms, its JSON report) of a tracer that exited 0."""
        took, rc = self.procs.stop(t.proc, limit)
        if what is None:
            return jb.ms_text(took), rc
        try:
            if rc == 0:
                return jb.ms_text(took), json.loads(t.out.read_text())
        except ValueError:
            pass
        raise LabError("%s: slableak exited %s without a report: %s" % (what, rc, t.err.read_text()[-300:]))

    def churn(self, ops=None):
        """(wall, CPU) ns per op of one churn of OPS."""
        return jb.churn_figures(_out([self.churn_bin, str(ops or self.a.ops), str(self.a.cpu), str(self.a.bytes),
                                      self.a.workload]))

    def warm_up(self):
        # Steady state, not start-up: slableak learns each allocation site's
        # stack fingerprint from two samples taken by userspace 250 ms apart;
        # until then it unwinds every allocation. Two short warm-up churns with
        # a pause after each give it both samples (every config gets the same).
        for _ in range(2):
            self.churn(self.a.ops // 6 + 1)
            time.sleep(0.35)

    def holder(self, vector, count):
        """`holder VECTOR COUNT`, its stdin a pipe we keep; (proc, seconds until 'ready')."""
        t0 = time.monotonic()
        p = self.procs.start([self.holder_bin, vector, str(count)], self.logs / "holder.out",
                             self.logs / "holder.out.err", stdin=subprocess.PIPE)
        return p, wait_line(self.logs / "holder.out", "ready", 600, p) - t0

    def stop_holder(self, p):
        try:
            p.stdin.write(b"quit\n")
            p.stdin.close()
        except OSError:
            pass
        self.procs.stop(p, 60)

    def write_rows(self, name, rows):
        (self.out / name).write_text("".join(" ".join(str(x) for x in r) + "\n" for r in rows))
        return [l.split() for l in (self.out / name).read_text().splitlines()]

    # ---------------------------------------------------------- sections
    def attach(self):
        self.say("", "== attach time (slableak check -c %s, 7 runs)" % self.a.cache)
        runs = []
        for _ in range(7):
            t0 = time.monotonic()
            line = _out(["taskset", "-c", self.tracer_cpus, self.slableak, "check", "-c", self.a.cache]).strip()
            wall = jb.ms_text(time.monotonic() - t0)
            ms = jb.check_line(line)[0]
            if ms is None:
                raise LabError("attach: no 'attached in N ms' in: " + line)
            runs.append((ms, wall))
        self.write_rows("attach.txt", runs)
        self.add(jb.attach(runs, line))

    def overhead_configs(self):
        a, snap = self.a, [self.slableak, "snapshot", "-d", "1h", "--format", "json"]
        cmds = {"untraced": None, "floor": ("floor", [self.floor]),
                "floor1": ("floor", [self.floor, "--alloc-only"]),  # kmalloc only, as bt-count
                "exact": ("slableak", [*snap, "-c", a.cache]),
                "exact-nocache": ("slableak", [*snap, "-c", a.cache, "--no-stack-cache"]),
                "exact-bycomm": ("slableak", [*snap, "-c", a.cache, "--by", "comm"]),
                **{"s%d" % n: ("slableak", [*snap, "-c", a.cache, "--sample-every", str(n)]) for n in (16, 64, 256)},
                "other": ("slableak", [*snap, "-c", a.other_cache]),
                "bt-count": ("bpftrace", [self.bpftrace, "-e", BT_COUNT]),
                "bt-stacks": ("bpftrace", ["env", "BPFTRACE_MAP_KEYS_MAX=1000000", self.bpftrace, "-e", BT_STACKS])}
        configs = ["untraced", "floor", "floor1", "exact", *(("s64",) if a.quick else ("s16", "s64", "s256")),
                   "other", "bt-count", "bt-stacks"]
        configs += ["exact-bycomm"] + ([] if a.quick else ["exact-nocache"])
        if a.baseline:
            cmds["exact-base"] = ("slableak", [a.baseline, *snap[1:], "-c", a.cache])
            configs.append("exact-base")
        if not self.bpftrace:
            self.log("bpftrace not installed: bt-count and bt-stacks skipped")
            configs = [c for c in configs if not c.startswith("bt-")]
        return configs, cmds

    def overhead(self):
        a = self.a
        configs, cmds = self.overhead_configs()
        self.say("", "== overhead: %d configs x %d alternating rounds, churn %d ops of %d bytes (%s, %s) on CPU %d"
                 % (len(configs), a.rounds, a.ops, a.bytes, a.workload, a.cache, a.cpu))
        tsv = self.out / "overhead.tsv"
        tsv.write_text("\t".join(jb.OVERHEAD_COLUMNS) + "\n")
        n = len(configs)
        for r in range(a.rounds):
            order = [configs[(i + r) % n] for i in range(n)]
            self.log("round %d/%d: %s" % (r + 1, a.rounds, " ".join(order)))
            for c in order:
                row = dict.fromkeys(jb.OVERHEAD_COLUMNS, "-")
                row.update(round=r, config=c)
                t = None
                if cmds[c]:
                    t = self.tracer("r%d-%s" % (r, c), cmds[c][1], cmds[c][0])
                    row["attach_ms"] = t.attach_ms
                self.warm_up()
                me = t.proc.pid if t else 0
                f1 = self.foreign_pids(me)
                row["ns_per_op"], row["cpu_ns_per_op"] = self.churn()
                row["foreign"] = max(f1, self.foreign_pids(me))
                if t:
                    if t.kind != "bpftrace":
                        pf = self.figures(t)
                        row["rss_kib"], row["hwm_kib"] = pf["rss_kb"], pf["hwm_kb"]
                    # bpftrace 0.17 has been seen to ignore a SIGINT (2 of 48 runs
                    # here): it gets SIGTERM after 10 s; the churn figure is taken.
                    row["stop_ms"], rep = self.stop(t, 10 if t.kind == "bpftrace" else 60,
                                                    c if t.kind == "slableak" else None)  # floor: no report
                    if t.kind == "slableak":
                        (row["selected"], row["tracked"], row["kernel_map_bytes"], row["recursion_misses"],
                         row["stacks_from_cache"]) = jb.report_fields(rep)
                    elif t.kind == "bpftrace":
                        t.out.unlink()  # its map dumps can be large
                with open(tsv, "a") as f:
                    f.write("\t".join(str(row[k]) for k in jb.OVERHEAD_COLUMNS) + "\n")
        with open(tsv) as f:
            rows = [dict(zip(jb.OVERHEAD_COLUMNS, l.rstrip("\n").split("\t"))) for l in list(f)[1:]]
        self.add(jb.overhead(rows, a.metric))

    def progs(self):
        # With kernel.bpf_stats_enabled the kernel times every program run
        # (run_time_ns / run_cnt); the timing itself adds a constant, which the
        # empty floor programs show: body = average - floor average.
        a = self.a
        self.say("", "== program bodies (kernel.bpf_stats_enabled, churn %d ops; body = avg - empty program avg)"
                 % a.ops)
        args = {"s64": ["-c", a.cache, "--sample-every", "64"], "other": ["-c", a.other_cache],
                "exact": ["-c", a.cache]}
        rows = []
        if a.baseline:
            args["exact-base"] = ["-c", a.cache]
        with self.bpf_stats():
            for c in ("floor", "s64", "other", "exact", *(("exact-base",) if a.baseline else ())):
                binary = a.baseline if c == "exact-base" else self.slableak
                t = (self.tracer("progs-floor", [self.floor], "floor") if c == "floor" else
                     self.tracer("progs-" + c, [binary, "snapshot", "-d", "1h", *args[c]]))
                self.warm_up()
                ids = self.prog_ids(t)
                before = jb.prog_stats(self.progs_json(), ids=ids)
                self.churn()
                after = jb.prog_stats(self.progs_json(), ids=ids)
                self.stop(t, 60)
                rows += jb.prog_rows(c, before, after)
        self.add(jb.progs(self.write_rows("progs.txt", rows), a.ops))

    def naming(self):
        # The same exact tracer with --method kfunc and --method slab, rounds
        # alternated with an untraced run, following CACHE (every churned object
        # named, then tracked) and OTHER_CACHE (named, then let go): the kmalloc
        # program's average run time and the churn's CPU ns per op. Needs the kfunc.
        a = self.a
        self.say("", "== naming the cache: --method kfunc vs --method slab (%s, churn %d ops of %d bytes)"
                 % (a.cache, a.ops, a.bytes))
        with open("/proc/kallsyms") as f:
            if not any(l.split()[2:3] == ["bpf_get_kmem_cache"] for l in f):
                self.say("skipped: this kernel has no bpf_get_kmem_cache (6.13+) to compare the slab walk with")
                return
        methods, rows = ("untraced", "kfunc", "slab", "kfunc-other", "slab-other"), []
        with self.bpf_stats():
            for r in range(3 if a.quick else 7):
                for i in range(len(methods)):
                    m = methods[(i + r) % len(methods)]
                    if m == "untraced":
                        self.warm_up()
                        rows.append(["untraced", r, self.churn()[1], 0, 0, "-"])
                        continue
                    meth = m.replace("-other", "")
                    t = self.tracer("naming-%s-%d" % (m, r), [self.slableak, "snapshot", "-d", "1h", "-f", "json",
                                    "-c", a.other_cache if m.endswith("-other") else a.cache, "--method", meth])
                    self.warm_up()
                    ids, names = self.prog_ids(t), ("kmalloc_kfunc", "kmalloc_slab")
                    t0, k0 = jb.named_stats(self.progs_json(), names, ids)
                    cns = self.churn()[1]
                    t1, k1 = jb.named_stats(self.progs_json(), names, ids)
                    if k1 <= k0:
                        raise LabError("naming: no run of %s's kmalloc program was counted (bpf_stats?)" % m)
                    rep = self.stop(t, 60, "naming: --method " + m)[1]
                    if rep["cache_method"] != meth:
                        raise LabError("naming: asked for --method %s, the report says %s" % (meth, rep["cache_method"]))
                    rows.append([m, r, cns, t1 - t0, k1 - k0, rep["tracer"].get("cache_unnamed", 0)])
        self.add(jb.naming(self.write_rows("naming.txt", rows), a.ops))

    def churn_named(self, ops):
        """CPU ns per op of one `holder churn-named OPS` on the churn CPU."""
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        _out(["taskset", "-c", str(self.a.cpu), self.holder_bin, "churn-named", str(ops)], stdin=subprocess.DEVNULL)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return "%.1f" % ((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1e9 / ops)

    def caches(self):
        # The cost of a miss must not grow with the number of followed caches
        # (bpf/cache_verdict.h): follow 1, 16 or 64 caches the churn does not
        # touch and run `holder churn-named` (kmem_cache_alloc/free in
        # sock_inode_cache, filp, ...): every kmem_cache_alloc event is a miss.
        a = self.a
        self.say("", "== followed caches: miss cost with 1, 16 and 64 named caches (holder churn-named)")
        ops = 20000 if a.quick else 50000
        follow = jb.caches_to_follow(Path("/proc/slabinfo").read_text())
        if len(follow) < 64:
            raise LabError("caches: only %d candidate caches" % len(follow))
        rows = []
        with self.bpf_stats():
            for _ in range(3 if a.quick else 5):
                for n in (0, 1, 16, 64):
                    if n == 0:
                        rows.append(["untraced", n, self.churn_named(ops), 0, 0])
                        continue
                    t = self.tracer("caches-%d" % n, [self.slableak, "snapshot", "-d", "1h", "-f", "json",
                                                      *(x for c in follow[:n] for x in ("-c", c))])
                    self.churn_named(ops)  # warm-up: verdicts learned, memo filled
                    t0, k0 = jb.named_stats(self.progs_json(), ("kmem_cache_allo*",))  # 15-char names
                    ns = self.churn_named(ops)
                    t1, k1 = jb.named_stats(self.progs_json(), ("kmem_cache_allo*",))
                    self.stop(t, 60)
                    try:
                        sel = "%d" % json.loads(t.out.read_text())["tracer"]["allocs_selected"]
                    except (ValueError, KeyError):
                        sel = "?"
                    rows.append(["named", n, ns, t1 - t0, k1 - k0, sel])
        self.add(jb.caches(self.write_rows("caches.txt", rows), ops))

    def refresh(self):
        self.say("", "== userspace refresh, synthetic 10,000 stacks x 4 epochs (bench/refresh_bench)")
        text = _out(["taskset", "-c", self.tracer_cpus, self.refresh_bench, "--stacks", "10000", "--epochs", "4",
                     "--refreshes", "15" if self.a.quick else "40", "--interval", "15", "--sample-every", "64"])
        (self.out / "refresh.txt").write_text(text)
        self.add(jb.refresh(text))

    def daemon(self):
        a = self.a
        self.say("", "== daemon: slableak export --interval 15s -c %s (exporter defaults) for %ds, churn running on "
                 "CPU %d" % (a.cache, a.daemon_secs, a.cpu))
        textdir = self.out / "textfile"
        textdir.mkdir(exist_ok=True)
        churn = self.procs.start([self.churn_bin, "0", str(a.cpu), str(a.bytes), a.workload],
                                 self.logs / "daemon-churn.out")
        t = self.tracer("daemon", [self.slableak, "export", "--interval", "15s", "--textfile-dir", str(textdir),
                                   "-c", a.cache])
        t0, c0 = time.monotonic(), self.figures(t)["cpu_ticks"]
        time.sleep(a.daemon_secs)
        pf = self.figures(t)
        wall = jb.ms_text(time.monotonic() - t0)
        prom = textdir / "slableak.prom"
        text = prom.read_text() if prom.exists() else ""
        if text:
            shutil.copy(prom, self.out / "daemon-last.prom")
        kmb = int(float(jb.prom_value(text, "slableak_tracer_kernel_memory_bytes") or 0))
        stacks = jb.prom_value(text, 'slableak_tracer_map_entries{map="stacks"}') or ""
        self.stop(t, 30)
        self.procs.stop(churn, 10)
        cns = "%s/%s" % jb.churn_figures((self.logs / "daemon-churn.out").read_text())
        self.add(jb.daemon((c0, pf["cpu_ticks"]), self.hz, float(wall), pf["rss_kb"], pf["hwm_kb"], kmb, stacks, cns))

    def scale(self):
        n = self.a.scale_count
        self.say("", "== scale: %d objects held (holder kmalloc), slableak -c kmalloc-2k --max-tracked 2M (exact)" % n)
        t = self.tracer("scale", [self.slableak, "snapshot", "-d", "1h", "--format", "json", "-c", "kmalloc-2k",
                                  "--max-tracked", "2M"])
        h, held_s = self.holder("kmalloc", n)
        self.say("holder allocated %d in %s s (traced)" % (n, round(held_s, 1)))
        time.sleep(2)
        # snapshot mode collects once a second: CPU over 10 s = ~10 collects
        c0, t0 = self.figures(t)["cpu_ticks"], time.monotonic()
        time.sleep(10)
        pf = self.figures(t)
        wall = jb.ms_text(time.monotonic() - t0)
        final_ms, rep = self.stop(t, 120, "scale")
        self.stop_holder(h)
        self.add(jb.scale((c0, pf["cpu_ticks"]), self.hz, float(wall), final_ms, jb.scale_report(rep), pf["rss_kb"], n))

    def estimate(self):
        runs = self.a.estimate_runs
        self.say("", "== sampled estimate: %d objects held, slableak -c kmalloc-2k --sample-every 64, %d runs"
                 % (ESTIMATE_COUNT, runs))
        errs = []
        for i in range(1, runs + 1):
            t = self.tracer("est%d" % i, [self.slableak, "snapshot", "-d", "1h", "--format", "json",
                                          "-c", "kmalloc-2k", "--sample-every", "64"])
            h, _ = self.holder("kmalloc", ESTIMATE_COUNT)
            time.sleep(1)
            rep = self.stop(t, 60, "estimate")[1]
            self.stop_holder(h)
            est = jb.holder_objects(rep)
            errs.append(jb.estimate_error(est, ESTIMATE_COUNT))
            self.say("run %d: estimate %d for %d held: error %s%%" % (i, est, ESTIMATE_COUNT, errs[-1]))
        self.add(([], [("estimate_errors_pct", ",".join(errs))]))


def defaults(a):
    only = [s for s in a.only.split(",") if s]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        raise LabError("--only %s: no such section (sections: %s)" % (",".join(bad), ",".join(SECTIONS)))
    a.only = only
    for k, quick, full in (("rounds", 5, 15), ("ops", 150000, 300000), ("daemon_secs", 30, 120),
                           ("estimate_runs", 3, 5)):
        if getattr(a, k) is None:
            setattr(a, k, quick if a.quick else full)


def run(a, log):
    defaults(a)
    if os.geteuid() != 0:
        raise LabError("run as root (loads BPF programs)")
    if not shutil.which("taskset"):
        raise LabError("taskset (util-linux) is needed")
    started = time.monotonic()
    b = Bench(a, log)
    b.binaries()

    def on_term(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        if not os.path.ismount("/sys/kernel/tracing") and subprocess.run(
                ["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"]).returncode:
            log("could not mount tracefs (bpftrace configs will fail)")
        b.machine()
        for s in SECTIONS:
            if s in a.only:
                getattr(b, s)()
    finally:
        b.procs.stop_all()
    b.say("", "== all figures (key value): %s" % b.kv)
    text = b.kv.read_text()
    print(text, end="")
    b.say("", "== targets (docs/performance.md)", *jb.targets(jb.parse_figures(text)))
    b.say("load average at end: %s (start %s); runtime %ds"
          % (open("/proc/loadavg").read().split()[0], b.load, time.monotonic() - started))
    return 0

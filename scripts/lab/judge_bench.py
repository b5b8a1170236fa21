"""The benchmark's figures, tables and targets (pure: no I/O, no processes).

bench.py measures; each function here takes what one section recorded and
returns ``(lines, figures)``: the table lines it prints and its figures as
``(key, value)`` pairs, the "key value" lines of OUT/figures.txt
(docs/performance.md reads them). ``targets(figures)`` gives the PASS/FAIL lines.
Statistics are medians (``statistics.median``) throughout."""

import re
import statistics as st

NAN = float("nan")
# Table order of the overhead configurations (bench.py runs those it has).
OVERHEAD_ORDER = ("untraced", "floor", "floor1", "exact", "exact-base", "exact-nocache", "exact-bycomm", "s16", "s64",
                  "s256", "other", "bt-count", "bt-stacks")
OVERHEAD_COLUMNS = ("round", "config", "ns_per_op", "cpu_ns_per_op", "attach_ms", "stop_ms", "rss_kib", "hwm_kib",
                    "selected", "tracked", "kernel_map_bytes", "recursion_misses", "foreign", "stacks_from_cache")
# Rounds left after dropping those another kmem tracer disturbed: at least this many, or none dropped.
MIN_CLEAN_ROUNDS = 5
PROG_PREFIXES = ("kmalloc_", "kfree_", "kmem_cache_free_")
NAMING_METHODS = ("kfunc", "slab", "kfunc-other", "slab-other")


def ms_text(seconds):
    """SECONDS as milliseconds with one decimal, truncated ("31.7")."""
    d = int(seconds * 1e4)
    return "%d.%d" % (d // 10, d % 10)


def figures_text(figures):
    return "".join("%s %s\n" % kv for kv in figures)


def parse_figures(text):
    """{key: value} of figures.txt TEXT."""
    out = {}
    for line in text.splitlines():
        k, _, v = line.strip().partition(" ")
        out[k] = v
    return out


# ------------------------------------------------------------------ attach
def check_line(line):
    """(attach ms or None, kernel map memory) from `slableak check`'s line."""
    m = re.search(r"attached in ([0-9]+) ms", line)
    mem = re.search(r"kernel map memory ([^;]*);", line)
    return (int(m.group(1)) if m else None), (mem.group(1) if mem else line).replace(" ", "_")


def attach(runs, last_line):
    """RUNS: (attach ms as check reports it, whole command ms) per run."""
    a_int = st.median(float(r[0]) for r in runs)
    a_wall = st.median(float(r[1]) for r in runs)
    lines = ["last: " + last_line,
             "median: attach (load+attach, as check reports) %s ms; whole check command (exec to exit) %s ms"
             % (a_int, a_wall)]
    return lines, [("attach_check_ms", a_int), ("check_wall_ms", a_wall),
                   ("kernel_map_bytes_check_default", check_line(last_line)[1])]


# ------------------------------------------------------------------ overhead
def foreign_pids(perf_list, me):
    """How many other processes than ME have programs on kmem events, in `bpftool perf list` text."""
    pids = {f[1] for f in (l.split() for l in perf_list.splitlines() if re.search("kmalloc|kfree|kmem", l))
            if len(f) > 1 and _int(f[1]) != me}
    return len(pids)


def _int(s):
    m = re.match(r"[+-]?\d+", s)
    return int(m.group()) if m else 0


def foreign_kmem(perf_list, link_list):
    """The lines of `bpftool perf list` / `link list` that show programs on kmem events."""
    out = [l for l in perf_list.splitlines() if re.search("kmalloc|kfree|kmem", l)]
    links = link_list.splitlines()
    for i, l in enumerate(links):
        if re.search(r"tp '(kmalloc|kfree|kmem_)", l):
            out += links[max(0, i - 1):i + 1]
    return out


def clean_rounds(rows):
    """(rows kept, lines, dirty round count): a round in which another process
    had BPF programs on kmem events is left out while MIN_CLEAN_ROUNDS remain."""
    dirty = {r["round"] for r in rows if r.get("foreign", "0") not in ("0", "")}
    every = {r["round"] for r in rows}
    lines = []
    if dirty and len(every - dirty) >= MIN_CLEAN_ROUNDS:
        lines.append("left out %d of %d rounds: another process traced kmem events during them"
                     % (len(dirty), len(every)))
        rows = [r for r in rows if r["round"] not in dirty]
    elif dirty:
        lines.append("WARNING: in %d of %d rounds another process traced kmem events; kept (fewer than 5 clean "
                     "rounds)" % (len(dirty), len(every)))
    return rows, lines, len(dirty)


def overhead(rows, metric="cpu"):
    """ROWS: overhead.tsv as dicts (OVERHEAD_COLUMNS, strings); METRIC cpu or wall."""
    col = "cpu_ns_per_op" if metric == "cpu" else "ns_per_op"
    other_col = "ns_per_op" if col == "cpu_ns_per_op" else "cpu_ns_per_op"
    rows, lines, dirty = clean_rounds(rows)
    figs = [("rounds_used", "%d" % len({r["round"] for r in rows})), ("rounds_dirty", "%d" % dirty)]
    by = {}
    for r in rows:
        by.setdefault(r["config"], []).append(r)
    med = {c: st.median(float(x[col]) for x in v) for c, v in by.items()}
    med_o = {c: st.median(float(x[other_col]) for x in v) for c, v in by.items()}
    lines += ["", "metric: %s (the other one, %s, is in the last column)" % (
        "churn CPU time per op (user+sys of the churn thread)" if col == "cpu_ns_per_op" else
        "churn wall time per op", other_col)]
    base = med["untraced"]
    rounds = sorted({r["round"] for r in rows})

    def per_round_added(c):
        out = []
        for rd in rounds:
            u = [float(x[col]) for x in by["untraced"] if x["round"] == rd]
            v = [float(x[col]) for x in by.get(c, []) if x["round"] == rd]
            if u and v:
                out.append(v[0] - u[0])
        return out
    added = {c: med[c] - base for c in med}

    def ratio(a, b):
        return "%.2f" % (added[a] / added[b]) if b in added and added[b] > 0 else "-"
    other_name = other_col.replace("_ns_per_op", "").replace("ns_per_op", "wall")
    lines.append("config       ns/op(med)  added   per-round added [min..max] (median)  x floor  x bt-count  "
                 "x bt-stacks  attach_ms(med)  added(other metric)")
    for c in OVERHEAD_ORDER:
        if c not in med:
            continue
        pr = per_round_added(c)
        am = [float(x["attach_ms"]) for x in by[c] if x["attach_ms"] != "-"]
        lines.append("%-11s %10.1f %+7.1f   [%+7.1f .. %+7.1f] (%+7.1f)     %6s  %9s  %11s  %14s  %+.1f" % (
            c, med[c], added[c], min(pr), max(pr), st.median(pr), ratio(c, "floor"), ratio(c, "bt-count"),
            ratio(c, "bt-stacks"), "%.0f" % st.median(am) if am else "-", med_o[c] - med_o["untraced"]))
        figs += [("added_ns_paired_" + c, "%.1f" % st.median(pr)), ("ns_per_op_" + c, "%.1f" % med[c]),
                 ("added_ns_" + c, "%.1f" % added[c]), ("added_min_" + c, "%.1f" % min(pr)),
                 ("added_max_" + c, "%.1f" % max(pr)),
                 ("added_ns_%s_%s" % (other_name, c), "%.1f" % (med_o[c] - med_o["untraced"]))]
        if am:
            figs.append(("attach_to_line_ms_" + c, "%.0f" % st.median(am)))
    for c in ("exact", "exact-base", "s64", "floor"):
        if c not in by:
            continue
        rss, hwm, kmb = ([int(x[k]) for x in by[c] if x[k] not in ("-", "")]
                         for k in ("rss_kib", "hwm_kib", "kernel_map_bytes"))
        if rss and kmb:  # bench/floor has no report, so no kernel map figure
            lines.append("slableak snapshot %-6s VmRSS %.1f MiB  VmHWM %.1f MiB  kernel maps %.1f MiB (median)" % (
                c, st.median(rss) / 1024, st.median(hwm) / 1024, st.median(kmb) / 1048576))
            figs += [("snapshot_rss_kib_" + c, "%d" % st.median(rss)), ("snapshot_hwm_kib_" + c, "%d" % st.median(hwm)),
                     ("kernel_map_bytes_" + c, "%d" % st.median(kmb))]
    # sanity: did the tracer see the churn?
    for c in ("exact", "exact-base", "exact-nocache", "exact-bycomm", "s64", "other"):
        if c in by:
            x = by[c][-1]
            lines.append("sanity %-6s allocs_selected %s tracked %s stacks_from_cache %s recursion_misses %s "
                         "(last round)" % (c, x["selected"], x["tracked"], x.get("stacks_from_cache", "-"),
                                           x["recursion_misses"]))
    return lines, figs


def report_fields(report):
    """selected, tracked, kernel map bytes, recursion misses, stacks from cache of a JSON report (dict)."""
    t = report["tracer"]
    return ("%d" % t["allocs_selected"], "%d" % t["allocs_tracked"], "%d" % t["kernel_map_bytes"],
            "%d" % t["recursion_misses"], "%s" % t.get("stacks_from_cache", "-"))


# ------------------------------------------------------------------ progs
def prog_stats(progs, prefixes=PROG_PREFIXES, ids=None):
    """{id: (name, run_time_ns, run_cnt)} of `bpftool prog show -j` PROGS whose name starts with
    PREFIXES, of the ids IDS if given."""
    return {p["id"]: (p.get("name", ""), p.get("run_time_ns", 0), p.get("run_cnt", 0)) for p in progs
            if p.get("name", "").startswith(prefixes) and (ids is None or p["id"] in ids)}


def prog_rows(config, before, after):
    """progs.txt rows [config, name, runs, avg ns] of each program that ran between two prog_stats."""
    out = []
    for i, (n, t, k) in after.items():
        if i in before:
            dt, dk = t - before[i][1], k - before[i][2]
            if dk:
                out.append([config, n, "%d" % dk, "%.1f" % (dt / dk)])
    return out


def progs(rows, ops):
    """ROWS: progs.txt rows; body = average - the empty floor programs' average."""
    empty = [float(r[3]) for r in rows if r[0] == "floor"]
    base = sum(empty) / len(empty) if empty else 0
    lines = ["empty program, timed: %.1f ns per run (the timing's own cost)" % base,
             "config  program                 runs/op   avg ns   body ns   body ns per op"]
    figs = []
    for c, n, k, avg in rows:
        per_op = int(k) / ops
        body = float(avg) - base
        lines.append("%-7s %-22s %7.2f %8.1f %9.1f %12.1f" % (c, n, per_op, float(avg), body, body * per_op))
        figs += [("prog_body_ns_%s_%s" % (c, n), "%.1f" % body), ("prog_runs_per_op_%s_%s" % (c, n), "%.2f" % per_op)]
    return lines, figs


# ------------------------------------------------------------------ naming
def named_stats(progs, names, ids=None):
    """(run_time_ns, run_cnt) summed over PROGS named NAMES (a tuple of names or
    of prefixes ending in '*'), only the ids IDS if given."""
    t = k = 0
    for p in progs:
        n = p.get("name", "")
        if ids is not None and p.get("id") not in ids:
            continue
        if any(n.startswith(x[:-1]) if x.endswith("*") else n == x for x in names):
            t += p.get("run_time_ns", 0)
            k += p.get("run_cnt", 0)
    return t, k


def naming(rows, ops):
    """ROWS: naming.txt rows [method, round, churn CPU ns/op, run_time_ns, run_cnt, cache_unnamed]."""
    def med(m, f):
        v = [f(r) for r in rows if r[0] == m]
        return st.median(v) if v else NAN
    base = med("untraced", lambda r: float(r[2]))
    lines = ["untraced: %.0f churn CPU ns per op (median of %d rounds)" % (base, sum(r[0] == "untraced" for r in rows)),
             "config       churn CPU ns/op  added/op  kmalloc prog runs/op  kmalloc prog avg ns  cache_unnamed (last)"]
    figs, res = [], {}
    for m in NAMING_METHODS:
        cpu = med(m, lambda r: float(r[2]))
        avg = med(m, lambda r: int(r[3]) / int(r[4]) if int(r[4]) else NAN)
        runs = med(m, lambda r: int(r[4]) / ops)
        last = [r for r in rows if r[0] == m][-1]
        res[m] = (cpu - base, avg)
        lines.append("%-12s %16.0f %+9.0f %21.2f %20.1f  %s" % (m, cpu, cpu - base, runs, avg, last[5]))
        key = m.replace("-", "_")
        figs += [("naming_%s_added_cpu_ns_per_op" % key, "%.0f" % (cpu - base)),
                 ("naming_%s_kmalloc_prog_avg_ns" % key, "%.1f" % avg)]
    for suffix, what in (("", "followed, tracked"), ("-other", "not followed")):
        (ak, pk), (asl, psl) = res["kfunc" + suffix], res["slab" + suffix]
        lines.append("slab walk vs kfunc (%s): kmalloc program %+.1f ns per event (x%.2f); added per op x%s" % (
            what, psl - pk, psl / pk, "%.2f" % (asl / ak) if ak > 0 else "-"))
        key = suffix.replace("-", "_")
        figs += [("naming_slab_minus_kfunc_prog_ns" + key, "%.1f" % (psl - pk)),
                 ("naming_slab_over_kfunc_prog" + key, "%.2f" % (psl / pk))]
    return lines, figs


# ------------------------------------------------------------------ caches
# Caches the churn-named load allocates from (or may), and kmalloc: never followed.
CACHES_NOT_FOLLOWED = re.compile(
    r"^(kmalloc|dma-kmalloc|sock_inode_cache|filp|dentry|skbuff_|signal_cache|UNIX|eventpoll|ep_head|extent_status|"
    r"bio|anon_vma|task_struct|pid|cred_jar|files_cache|mm_struct|vm_area_struct|sighand_cache|fs_cache|inode_cache|"
    r"lsm_|msg_msg|memdup_user|buffer_head|radix_tree_node|xfs|ext4|btrfs|jbd2)")


def caches_to_follow(slabinfo, n=64):
    """The first N caches of /proc/slabinfo text that the churn-named load does not touch."""
    names = [l.split()[0] for l in slabinfo.splitlines()[2:] if l.split()]
    return [c for c in names if not CACHES_NOT_FOLLOWED.search(c)][:n]


def caches(rows, ops):
    """ROWS: caches.txt rows [untraced|named, followed, churn CPU ns/op, run_time_ns, run_cnt, allocs_selected]."""
    base = st.median(float(r[2]) for r in rows if r[0] == "untraced")
    lines = ["untraced churn-named: %.0f CPU ns per op (median)" % base,
             "followed  CPU ns/op(med)  added   kmem_cache_alloc runs/op  avg ns per run (med)  hits (allocs_selected, "
             "last)"]
    figs = []
    for n in ("1", "16", "64"):
        rs = [r for r in rows if r[0] == "named" and r[1] == n]
        if not rs:
            continue
        cpu = st.median(float(r[2]) for r in rs)
        avg = st.median(int(r[3]) / int(r[4]) for r in rs if int(r[4]))
        runs = st.median(int(r[4]) / ops for r in rs)
        lines.append("%8s  %14.0f  %+6.0f   %22.2f  %20.1f  %s" % (n, cpu, cpu - base, runs, avg, rs[-1][5]))
        figs += [("caches_%s_added_cpu_ns_per_op" % n, "%.0f" % (cpu - base)),
                 ("caches_%s_alloc_prog_avg_ns" % n, "%.1f" % avg)]
    return lines, figs


# ------------------------------------------------------------------ refresh, daemon, scale, estimate
def refresh(text):
    """bench/refresh_bench's "key value" lines: printed as they are, each a refresh_ figure."""
    lines = text.splitlines()
    return lines, [("refresh_" + k, v) for k, _, v in (l.partition(" ") for l in lines)]


def prom_value(text, series):
    """The value of the Prometheus text line whose first field is SERIES, or None."""
    for line in text.splitlines():
        f = line.split()
        if len(f) > 1 and f[0] == series:
            return f[1]
    return None


def churn_figures(text):
    """(wall ns/op, CPU ns/op) of bench/churn's line "ns_per_op X ops N cpu_ns_per_op Y"."""
    f = text.split()
    return f[1], (f[5] if len(f) > 5 else f[1])


def daemon(ticks, hz, wall_ms, rss_kib, hwm_kib, map_bytes, stacks, churn):
    """TICKS: the exporter's (utime+stime) before and after WALL_MS; CHURN "wall/cpu" ns per op."""
    cpu_s = (ticks[1] - ticks[0]) / hz
    pct = cpu_s / (wall_ms / 1000) * 100
    lines = ["daemon CPU %.2f s over %.0f s = %.3f%% of one core (tick resolution 1/%s s)" % (
        cpu_s, wall_ms / 1000, pct, hz),
        "daemon VmRSS %.1f MiB  VmHWM %.1f MiB  kernel maps %.1f MiB  kernel stacks held %s" % (
            rss_kib / 1024, hwm_kib / 1024, map_bytes / 1048576, stacks),
        "churn under the daemon (whole run): %s ns/op wall/cpu" % churn]
    return lines, [("daemon_cpu_percent", "%.3f" % pct), ("daemon_rss_kib", rss_kib), ("daemon_hwm_kib", hwm_kib),
                   ("kernel_map_bytes_export", map_bytes), ("daemon_churn_ns_per_op", churn)]


def scale_report(report, frame="netlink_sendmsg"):
    """(kernel map bytes, live, held, drops, cache objects) of the scale run's JSON report."""
    t = report["tracer"]
    return (t["kernel_map_bytes"], t["live_objects"], holder_objects(report, frame),
            t["drop_live_map_full"] + t["drop_aggregate_map_full"], report["caches"][0]["attributed_objects"])


def holder_objects(report, frame="netlink_sendmsg"):
    """Outstanding objects on the holder's stacks (through FRAME) in a JSON report."""
    return sum(s["objects"] for s in report["stacks"] if any(frame in f for f in s["frames"]))


def scale(ticks, hz, wall_ms, final_ms, report, rss_kib, count):
    """TICKS over WALL_MS of 1-s collects; FINAL_MS: SIGINT to exit (text); REPORT: scale_report()."""
    kmb, live, held, drops, cobj = report
    per = (ticks[1] - ticks[0]) / hz / (wall_ms / 1000) * 1000
    lines = ["reported: %s objects on the holder's stacks (of %s held), %s live in the map, cache total %s, drops %s"
             % (held, count, live, cobj, drops),
             "kernel maps %.1f MiB; slableak VmRSS %.1f MiB" % (kmb / 1048576, rss_kib / 1024),
             "refresh: %.1f ms CPU per 1-s collect (avg over %.0f s); SIGINT -> final collect + JSON + detach + exit: "
             "%s ms" % (per, wall_ms / 1000, final_ms)]
    return lines, [("scale_held", count), ("scale_reported", held), ("scale_live", live), ("scale_drops", drops),
                   ("scale_kernel_map_bytes", kmb), ("scale_collect_cpu_ms", "%.1f" % per),
                   ("scale_final_report_ms", final_ms), ("scale_rss_kib", rss_kib)]


def estimate_error(estimate, count):
    """The sampled estimate's error in percent, as printed ("+0.7")."""
    return "%+.1f" % ((estimate - count) / count * 100)


# ------------------------------------------------------------------ targets
def targets(f):
    """PASS/FAIL (or "-": not measured) per target of docs/performance.md, from figures {key: value}."""
    def num(k):
        try:
            return float(f[k])
        except (KeyError, ValueError):
            return None
    out = []

    def verdict(name, ok, detail):
        out.append("%-5s %s: %s" % ("-" if ok is None else ("PASS" if ok else "FAIL"), name, detail))
    s64, fl, btc, bts, ex = (num("added_ns_" + c) for c in ("s64", "floor", "bt-count", "bt-stacks", "exact"))
    if None not in (s64, fl, btc):
        verdict("sampled 1/64 <= bt-count and <= 1.5x floor", s64 <= btc and s64 <= 1.5 * fl,
                "%+.0f ns vs bt-count %+.0f, 1.5x floor %+.0f" % (s64, btc, 1.5 * fl))
    if None not in (ex, bts):
        verdict("exact <= bt-stacks (aim: half)", ex <= bts, "%+.0f ns vs %+.0f (%.2fx; half %s)" % (
            ex, bts, ex / bts if bts else 0, "met" if ex <= bts / 2 else "not met"))
    # Issue 28's pair, shown when a --baseline build ran beside this one.
    eb = num("added_ns_exact-base")
    if None not in (ex, bts, eb) and bts:
        verdict("exact <= 0.2x bt-stacks", ex <= 0.2 * bts, "%+.0f ns vs %+.0f (%.2fx)" % (ex, bts, ex / bts))
    if None not in (ex, eb) and eb:
        verdict("exact < 0.5x exact-base (the --baseline build)", ex < 0.5 * eb,
                "%+.0f ns vs %+.0f (%.2fx)" % (ex, eb, ex / eb))
    if "estimate_errors_pct" in f:
        errs = [float(x) for x in f["estimate_errors_pct"].split(",") if x]
        verdict("sampled estimate of 50k within 10%", all(abs(e) <= 10 for e in errs),
                "errors " + ", ".join("%+.1f%%" % e for e in errs))
    rc, dc = num("refresh_cpu_percent_at_interval"), num("daemon_cpu_percent")
    if rc is not None or dc is not None:
        verdict("daemon < 1% of a core at 15 s, 10k stacks", all(x < 1 for x in (rc, dc) if x is not None),
                "synthetic 10k-stack refresh %s%%, real daemon (few stacks) %s%%" % (rc, dc))
    rss = {k: num(k) for k in ("snapshot_rss_kib_exact", "daemon_hwm_kib", "refresh_peak_rss_kib") if num(k) is not None}
    if rss:
        verdict("RSS <= 32 MiB", all(v <= 32768 for v in rss.values()),
                ", ".join("%s %.1f MiB" % (k, v / 1024) for k, v in rss.items()))
    at, cw, tl = num("attach_check_ms"), num("check_wall_ms"), num("attach_to_line_ms_exact")
    if cw is not None or tl is not None:
        verdict("attached within 150 ms", None if cw is None else cw <= 150,
                "whole 'check' run (exec, attach, read, detach, exit) %s ms; load+attach as check reports it %s ms; "
                "exec to 'tracing' line of snapshot in the rounds %s ms" % (cw, at, tl))
    return out

"""Unit tests of the benchmark's judge (judge_bench.py), on a recorded run:
`scripts/bench.sh --quick` (the bash benchmark before its port) on this
project's development VM (kernel 6.18, 2 vCPUs, other jobs running). Its raw
files, its stdout and its figures.txt are in data/bench-quick; inputs.json holds
what that script passed to its inline programs that it kept in no file (the
program counters around each progs churn, the daemon's and the scale run's
figures). Fed the same rows, the judge must print the tables and write the
figures.txt of that run, line for line."""

import copy
import csv
import json
import unittest
from pathlib import Path

from lab import judge_bench as jb

DATA = Path(__file__).resolve().parent / "data" / "bench-quick"
INPUTS = json.loads((DATA / "inputs.json").read_text())
STDOUT = (DATA / "stdout.txt").read_text()
OPS = INPUTS["ops"]


def rows(name):
    return [l.split() for l in (DATA / name).read_text().splitlines() if l.strip()]


def overhead_rows():
    with open(DATA / "overhead.tsv") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def stats(lines):
    """prog_stats() of the recorded "id name run_time_ns run_cnt" lines."""
    return jb.prog_stats([{"id": int(i), "name": n, "run_time_ns": int(t), "run_cnt": int(k)}
                          for i, n, t, k in (l.split() for l in lines)])


def daemon():
    c0, c1, hz, wall, rss, hwm, kmb, nstk, cns = INPUTS["daemon"]
    return jb.daemon((int(c0), int(c1)), int(hz), float(wall), int(rss), int(hwm), int(kmb), nstk, cns)


def scale():
    c0, c1, hz, w, fin, kmb, live, held, drops, cobj, rss, n = INPUTS["scale"]
    return jb.scale((int(c0), int(c1)), int(hz), float(w), fin,
                    (int(kmb), int(live), int(held), int(drops), int(cobj)), int(rss), int(n))


def estimate():
    errs = [jb.estimate_error(e, INPUTS["estimate_count"]) for e in INPUTS["estimates"]]
    return ["run %d: estimate %d for %d held: error %s%%" % (i + 1, e, INPUTS["estimate_count"], err)
            for i, (e, err) in enumerate(zip(INPUTS["estimates"], errs))], [("estimate_errors_pct", ",".join(errs))]


def sections():
    """(lines, figures) of every section, in the order the benchmark runs them."""
    att = [tuple(r) for r in rows("attach.txt")]
    last = next(l[len("last: "):] for l in STDOUT.splitlines() if l.startswith("last: "))
    return [jb.attach(att, last), jb.overhead(overhead_rows(), "cpu"), jb.progs(rows("progs.txt"), OPS),
            jb.naming(rows("naming.txt"), OPS), jb.caches(rows("caches.txt"), INPUTS["caches_ops"]),
            jb.refresh((DATA / "refresh.txt").read_text()), daemon(), scale(), estimate()]


def figures(only=None):
    return dict((k, str(v)) for k, v in (only or [kv for _, f in sections() for kv in f]))


class SameAsTheBashBenchmark(unittest.TestCase):
    def test_figures_txt_is_the_recorded_one_line_for_line(self):
        text = jb.figures_text([kv for _, f in sections() for kv in f])
        self.assertEqual(text.splitlines(), (DATA / "figures.txt").read_text().splitlines())

    def test_every_table_is_printed_as_the_recorded_run_printed_it(self):
        for lines, _ in sections():
            self.assertIn("\n" + "\n".join(lines) + "\n", STDOUT)

    def test_the_targets_are_the_recorded_ones(self):
        got = jb.targets(jb.parse_figures((DATA / "figures.txt").read_text()))
        self.assertEqual(got, [l for l in STDOUT.splitlines() if l.startswith(("PASS ", "FAIL ", "-     "))])
        self.assertEqual(len(got), 6)

    def test_program_counters_give_the_recorded_progs_rows(self):
        got = [r for c in ("floor", "s64", "other", "exact")
               for r in jb.prog_rows(c, stats(INPUTS["progs_bpftool"][c]["before"]),
                                     stats(INPUTS["progs_bpftool"][c]["after"]))]
        self.assertEqual(got, rows("progs.txt"))

    def test_progs_count_only_the_tracers_programs_when_asked(self):
        progs = [{"id": 1, "name": "kmalloc_floor", "run_time_ns": 5, "run_cnt": 1},
                 {"id": 2, "name": "kmalloc_slab", "run_time_ns": 9, "run_cnt": 1},  # another slableak's
                 {"id": 3, "name": "tcp_kprobe", "run_time_ns": 1, "run_cnt": 1}]
        self.assertEqual(set(jb.prog_stats(progs)), {1, 2})
        self.assertEqual(jb.prog_stats(progs, ids={1, 3}), {1: ("kmalloc_floor", 5, 1)})


class Overhead(unittest.TestCase):
    def test_added_cost_is_the_median_over_the_median_untraced(self):
        f = figures(jb.overhead(overhead_rows())[1])
        self.assertEqual((f["ns_per_op_untraced"], f["ns_per_op_exact"], f["added_ns_exact"]),
                         ("2872.1", "3623.4", "751.3"))
        # A slower untraced round moves the median (2872.1 -> 2900), and every added figure with it.
        r = overhead_rows()
        for x in r:
            if x["config"] == "untraced" and x["round"] == "3":
                x["cpu_ns_per_op"] = "2900"
        self.assertEqual(figures(jb.overhead(r)[1])["added_ns_exact"], "723.4")

    def test_wall_metric_swaps_the_columns(self):
        lines, figs = jb.overhead(overhead_rows(), "wall")
        f = figures(figs)
        self.assertEqual(f["added_ns_cpu_exact"], "751.3")
        self.assertIn("metric: churn wall time per op (the other one, cpu_ns_per_op, is in the last column)", lines)

    def test_rounds_another_tracer_disturbed_are_left_out_when_five_clean_remain(self):
        clean = overhead_rows()
        for x in clean:
            x["foreign"] = "0"
        dirty = copy.deepcopy(clean)
        for x in dirty:
            x["round"], x["foreign"], x["cpu_ns_per_op"] = str(int(x["round"]) + 5), "2", "1"
        lines, figs = jb.overhead(clean + dirty)
        self.assertEqual(lines[0], "left out 5 of 10 rounds: another process traced kmem events during them")
        f = figures(figs)
        self.assertEqual((f["rounds_used"], f["rounds_dirty"]), ("5", "5"))
        self.assertEqual(figs[2:], jb.overhead(clean)[1][2:])

    def test_dirty_rounds_are_kept_with_a_warning_when_too_few_are_clean(self):
        lines, figs = jb.overhead(overhead_rows())
        self.assertEqual(lines[0], "WARNING: in 3 of 5 rounds another process traced kmem events; kept "
                                   "(fewer than 5 clean rounds)")
        self.assertEqual(figs[:2], [("rounds_used", "5"), ("rounds_dirty", "3")])

    def test_ratio_to_a_config_that_costs_nothing_is_a_dash(self):
        lines, _ = jb.overhead(overhead_rows())
        exact = next(l for l in lines if l.startswith("exact "))
        self.assertEqual(exact.split()[9:12], ["-", "-", "0.33"])  # floor and bt-count added < 0 here


class Parsing(unittest.TestCase):
    PERF = ("pid 812  fd 12: prog_id 40  tracepoint  kmalloc\n"
            "pid 812  fd 13: prog_id 41  tracepoint  kfree\n"
            "pid 900  fd 7: prog_id 50  raw_tracepoint  kmem_cache_free\n"
            "pid 77  fd 5: prog_id 9  kprobe  func do_sys_open  offset 0\n")

    def test_foreign_pids_count_other_processes_on_kmem_events(self):
        self.assertEqual(jb.foreign_pids(self.PERF, 0), 2)
        self.assertEqual(jb.foreign_pids(self.PERF, 812), 1)
        self.assertEqual(jb.foreign_pids("", 0), 0)

    def test_foreign_kmem_lists_perf_lines_and_tracepoint_links(self):
        links = "12: tracing  prog 40\n\ttp 'kmalloc'\n13: perf_event  prog 9\n"
        self.assertEqual(jb.foreign_kmem(self.PERF, links)[-2:], ["12: tracing  prog 40", "\ttp 'kmalloc'"])
        self.assertEqual(len(jb.foreign_kmem(self.PERF, links)), 5)

    def test_check_line(self):
        last = next(l[len("last: "):] for l in STDOUT.splitlines() if l.startswith("last: "))
        self.assertEqual(jb.check_line(last), (263, "104.5_MiB"))
        self.assertEqual(jb.check_line("bad")[0], None)

    def test_caches_to_follow_skip_what_the_load_touches(self):
        slabinfo = "slabinfo - version: 2.1\n# name ...\nkmalloc-2k 1\nfilp 2\nnfs_inode 3\nbio-120 4\nsecpath 5\n"
        self.assertEqual(jb.caches_to_follow(slabinfo), ["nfs_inode", "secpath"])
        self.assertEqual(jb.caches_to_follow(slabinfo, 1), ["nfs_inode"])

    def test_named_stats_sum_by_name_or_prefix_and_ids(self):
        progs = [{"id": 1, "name": "kmalloc_kfunc", "run_time_ns": 10, "run_cnt": 2},
                 {"id": 2, "name": "kmalloc_slab", "run_time_ns": 5, "run_cnt": 1},
                 {"id": 3, "name": "kmem_cache_allo", "run_time_ns": 7, "run_cnt": 7}]
        self.assertEqual(jb.named_stats(progs, ("kmalloc_kfunc", "kmalloc_slab")), (15, 3))
        self.assertEqual(jb.named_stats(progs, ("kmalloc_kfunc", "kmalloc_slab"), ids={2}), (5, 1))
        self.assertEqual(jb.named_stats(progs, ("kmem_cache_allo*",)), (7, 7))

    def test_churn_and_prom_and_ms(self):
        self.assertEqual(jb.churn_figures("ns_per_op 3641.4 ops 9 cpu_ns_per_op 3445.8\n"), ("3641.4", "3445.8"))
        self.assertEqual(jb.churn_figures("ns_per_op 3641.4 ops 9"), ("3641.4", "3641.4"))
        prom = 'slableak_tracer_map_entries{map="stacks"} 3\nslableak_tracer_kernel_memory_bytes 4.3e+07\n'
        self.assertEqual(jb.prom_value(prom, 'slableak_tracer_map_entries{map="stacks"}'), "3")
        self.assertIsNone(jb.prom_value(prom, "nope"))
        self.assertEqual(jb.ms_text(0.03179), "31.7")
        self.assertEqual(jb.ms_text(1.5), "1500.0")


class Targets(unittest.TestCase):
    def test_each_target_turns_on_its_figures(self):
        f = jb.parse_figures((DATA / "figures.txt").read_text())
        f["added_ns_exact"] = "1200.0"  # more than half of bt-stacks, still below it
        self.assertIn("PASS  exact <= bt-stacks (aim: half): +1200 ns vs +2296 (0.52x; half not met)", jb.targets(f))
        f["added_ns_exact"] = "2300.0"
        self.assertTrue(jb.targets(f)[1].startswith("FAIL  exact <= bt-stacks"))
        f["estimate_errors_pct"] = "-0.5,+10.1"
        self.assertEqual(jb.targets(f)[2], "FAIL  sampled estimate of 50k within 10%: errors -0.5%, +10.1%")
        del f["check_wall_ms"]
        self.assertTrue(jb.targets(f)[-1].startswith("-     attached within 150 ms: whole 'check' run"))

    def test_a_baseline_build_adds_the_half_cost_targets(self):
        f = jb.parse_figures((DATA / "figures.txt").read_text())
        f["added_ns_exact"] = "450.0"
        f["added_ns_exact-base"] = "950.0"
        t = jb.targets(f)
        self.assertIn("PASS  exact <= 0.2x bt-stacks: +450 ns vs +2296 (0.20x)", t)
        self.assertIn("PASS  exact < 0.5x exact-base (the --baseline build): +450 ns vs +950 (0.47x)", t)
        f["added_ns_exact-base"] = "880.0"
        self.assertIn("FAIL  exact < 0.5x exact-base (the --baseline build): +450 ns vs +880 (0.51x)", jb.targets(f))

    def test_a_section_not_run_has_no_target(self):
        self.assertEqual(jb.targets({}), [])
        self.assertEqual(jb.targets({"daemon_cpu_percent": "0.5"}),
                         ["PASS  daemon < 1% of a core at 15 s, 10k stacks: synthetic 10k-stack refresh None%, "
                          "real daemon (few stacks) 0.5%"])


if __name__ == "__main__":
    unittest.main()

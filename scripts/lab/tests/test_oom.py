"""Unit tests of the OOM scenario's judge (judge_oom.py)."""

import copy
import json
import unittest
from pathlib import Path

from lab import judge_oom, oom

# `scripts/slk-lab oom --record DIR`: what the judge read from each guest.
DATA = Path(__file__).resolve().parent / "data"

NAME = "20261206T211405.250Z-oom"
CONSOLE = (
    "OOM-GUEST step push oom_kill=0 t=140.01\n"
    "[  141.502311] Out of memory: Killed process 612 (perl) total-vm:180000kB, anon-rss:120000kB\n"
    "+ [ 1 -gt 0 ]\n"
    "[  142.900000] Out of memory: Killed process 140 (systemd-journal) total-vm:40000kB\n")
MANIFEST = {"capture_version": 1, "name": NAME, "unix_time": 1796591645.25, "monotonic_s": 141.75,
            "trigger": "oom", "reason": "OOM killer marked pid 612 (perl)",
            "victim": {"pid": 612, "comm": "perl", "cgroup": "/system.slice/slableak-lab-runner.service",
                       "unix_time": 1796591645.0, "monotonic_s": 141.5023},
            "oom_to_report_ms": 247.7, "files": ["report.json", "capture.json"]}
LEAK = {"cache": "kmalloc-2k", "verdict": "leaking", "bytes": 120 << 20, "objects": 61440,
        "frames": ["__alloc_skb+0x86", "netlink_sendmsg+0x152", "____sys_sendmsg+0x37f", "___sys_sendmsg+0xe1"]}
POOL = {"cache": "kmalloc-2k", "verdict": "pool", "bytes": 200 << 20, "objects": 100,
        "frames": ["kmalloc_reserve+0x1", "something_else+0x2"]}
JOURNAL = ("[  141.988000] slableak-guest slableak[233]: slableak: capture /var/lib/slableak/captures/%s "
           "(OOM killer marked pid 612 (perl)): 60.1 KiB written 485 ms after the trigger\n" % NAME)
STEPS = ("STEP start kernel=6.1.0-50-cloud-amd64 mem_total_kib=285448 t=45.47\nSTEP exporter ready=yes pid=233 t=90.2\n"
         "STEP leak-stopped outcome=oom holder_alive=yes oom_kill=1 t=141.6\n"
         "STEP settled oom_kill=1 holder_alive=yes exporter=active nrestarts=0 t=149.7\nSTEP done t=151.0\n")
HOLDER = "ready 0\nheld 61440 stopped=oom oom_kill=1\n"


def inputs(stacks=(LEAK, POOL), manifest=MANIFEST):
    caps = {NAME: {"capture.json": json.dumps(manifest), "report.json": json.dumps({"stacks": list(stacks)})}}
    return CONSOLE, caps, {"steps.txt": STEPS, "exporter.txt": JOURNAL, "holder.txt": HOLDER}


def failed(checks):
    return {name for name, ok, _ in checks if not ok}


class Oom(unittest.TestCase):
    def test_a_timely_capture_naming_the_leak_passes(self):
        checks, fig = judge_oom.oom(*inputs())
        self.assertEqual(failed(checks), set(), checks)
        self.assertEqual(fig["first_kill_s"], 141.502311)
        self.assertEqual(fig["kills"], 2)
        self.assertAlmostEqual(fig["report_after_kill_s"], 0.248, places=3)
        self.assertAlmostEqual(fig["written_after_kill_s"], 0.486, places=3)

    def test_the_top_leaking_stack_must_be_the_holders(self):
        other = dict(LEAK, frames=["__alloc_skb+0x86", "udp_sendmsg+0x1"], bytes=LEAK["bytes"] * 2)
        self.assertEqual(failed(judge_oom.oom(*inputs(stacks=(LEAK, other)))[0]), {"top-leaking-stack"})
        # A bigger stack that is not judged leaking does not count; no leaking stack fails.
        self.assertEqual(failed(judge_oom.oom(*inputs(stacks=(POOL,)))[0]), {"top-leaking-stack"})
        in_cg = dict(LEAK, cache="kmalloc-cg-2k")
        self.assertEqual(failed(judge_oom.oom(*inputs(stacks=(in_cg,)))[0]), {"top-leaking-stack"})

    def test_a_capture_later_than_the_limit_fails(self):
        late = copy.deepcopy(MANIFEST)
        late["monotonic_s"] = 141.5 + 6
        console, caps, files = inputs(manifest=late)
        files["exporter.txt"] = JOURNAL.replace("141.988000", "147.900000")
        self.assertEqual(failed(judge_oom.oom(console, caps, files)[0]), {"in-time"})
        # Without the journal line the report's own time is judged.
        files["exporter.txt"] = ""
        self.assertEqual(failed(judge_oom.oom(console, caps, files)[0]), {"in-time"})

    def test_a_capture_for_another_victim_is_said(self):
        other = copy.deepcopy(MANIFEST)
        other["victim"]["pid"] = 140
        self.assertEqual(failed(judge_oom.oom(*inputs(manifest=other))[0]), {"names-first-victim"})

    def test_no_kill_and_no_capture_fail_and_stop(self):
        console, caps, files = inputs()
        checks, _ = judge_oom.oom("no kill here", caps, files)
        self.assertEqual(failed(checks), {"oom-kill"})
        sigusr1 = dict(MANIFEST, trigger="sigusr1")
        checks, _ = judge_oom.oom(*inputs(manifest=sigusr1))
        self.assertEqual(failed(checks), {"oom-capture"})
        checks, _ = judge_oom.oom("", {}, {})
        self.assertEqual(failed(checks), {"exporter-ready", "holder-kept", "finished", "oom-kill"})

    def test_the_holder_must_keep_its_objects_past_the_kill(self):
        console, caps, files = inputs()
        # A failed send stops the leak too, and keeps what is held.
        files["holder.txt"] = "ready 0\nheld 500 stopped=failed error=netlink_send:Cannot_allocate_memory oom_kill=0\n"
        self.assertEqual(failed(judge_oom.oom(console, caps, files)[0]), set())
        for text in ("ready 0\n", "held 0 stopped=oom oom_kill=1\n", "held 300000 stopped=count oom_kill=0\n",
                     "held 10 stopped=stdin oom_kill=0\n"):
            files["holder.txt"] = text
            self.assertEqual(failed(judge_oom.oom(console, caps, files)[0]), {"holder-kept"}, text)
        files["holder.txt"] = HOLDER
        files["steps.txt"] = STEPS.replace("STEP settled oom_kill=1 holder_alive=yes", "STEP settled oom_kill=1 holder_alive=no")
        self.assertEqual(failed(judge_oom.oom(console, caps, files)[0]), {"holder-kept"})

    def test_a_guest_that_did_not_finish_fails(self):
        console, caps, files = inputs()
        files["steps.txt"] = STEPS.split("STEP done")[0]
        checks, _ = judge_oom.oom(console, caps, files)
        self.assertEqual(failed(checks), {"finished"})
        self.assertIn("last step: settled", dict((n, d) for n, _, d in checks)["finished"])

    def test_kills_are_read_from_a_console_with_interleaved_output(self):
        console = "+ sleep 0.5[   88.100000] Out of memory: Killed process 5 (a b)\n[ 1.0] noise\n"
        self.assertEqual(judge_oom.kills(console), [(88.1, 5, "a b")])


class Recorded(unittest.TestCase):
    """The run recorded in data/oom-KERNEL.tar.gz passes, with the figures docs/operations.md quotes."""

    def judged(self, kernel):
        console, caps, files = oom.load_record(DATA / ("oom-%s.tar.gz" % kernel))
        return judge_oom.oom(console, caps, files)

    def test_both_kernels_pass(self):
        for kernel in ("6.1", "6.12"):
            checks, fig = self.judged(kernel)
            self.assertEqual(failed(checks), set(), (kernel, checks))
            self.assertEqual(fig["kills"], 1, kernel)
            self.assertLess(fig["written_after_kill_s"], judge_oom.WITHIN_S, kernel)

    def test_the_recorded_run_fails_without_the_holders_objects(self):
        console, caps, files = oom.load_record(DATA / "oom-6.12.tar.gz")
        for c in caps.values():
            report = json.loads(c["report.json"])
            for st in report["stacks"]:
                if st.get("verdict") == "leaking":
                    st["verdict"] = "pool"
            c["report.json"] = json.dumps(report)
        self.assertEqual(failed(judge_oom.oom(console, caps, files)[0]), {"top-leaking-stack"})


if __name__ == "__main__":
    unittest.main()

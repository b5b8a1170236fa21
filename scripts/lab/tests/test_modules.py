"""Unit tests of the module-symbolization verdict (judge_modules) on recorded
guest output (tests/data/modules-*) and on edited copies of it. No root, no qemu."""

import gzip
import re
import unittest
from pathlib import Path

from lab import frames, judge_modules

DATA = Path(__file__).resolve().parent / "data"
P = dict(count=500, tolerance=2.0, timeout=300)


def recorded(name):
    d = DATA / name
    console = (d / "console.log").read_text()
    data = gzip.decompress((d / "data.log.gz").read_bytes()) if (d / "data.log.gz").exists() else b""
    return console, frames.blocks(data, console)


def edited(blocks, name, old, new):
    out = dict(blocks)
    out[name] = blocks[name].replace(old, new)
    return out


class ModulesRecorded(unittest.TestCase):
    RUNS = sorted(p.name for p in DATA.glob("modules-*"))

    def test_recorded_kernels_pass(self):
        self.assertTrue(self.RUNS)
        for name in self.RUNS:
            console, blocks = recorded(name)
            v = judge_modules.modules_run(P, console, blocks, 0, False)
            self.assertEqual((name, v["status"]), (name, "PASS"), v)
            self.assertEqual(v["rounds"], "PASS,PASS")
            self.assertRegex(v["frame"], r"^tun_chr_open\+0x[0-9a-f]+ \[tun\]$")

    def test_frame_left_unknown_fails(self):
        # What the exporter printed before a5bfd36: the kallsyms re-read
        # after the capability drop saw zeros, tun's frames stayed unknown.
        console, blocks = recorded(self.RUNS[-1])
        bad = dict(blocks)
        bad["slableak.prom.1"] = re.sub(rb"[a-z_]+\+0x[0-9a-f]+ \[tun\]", b"[unknown]",
                                        blocks["slableak.prom.1"])
        self.assertNotEqual(bad["slableak.prom.1"], blocks["slableak.prom.1"])
        v = judge_modules.modules_run(P, console, bad, 0, False)
        self.assertEqual(v["status"], "FAIL")
        self.assertTrue(v["detail"].startswith("round-1:no-frame-'tun_chr_open+0x..[tun]'"), v["detail"])
        self.assertIn("[unknown]", v["detail"])

    def test_stale_table_after_reload_fails(self):
        # A table not re-read after the reload names the new addresses wrongly.
        console, blocks = recorded(self.RUNS[-1])
        bad = edited(blocks, "slableak.prom.2", b"tun_chr_open", b"dummy_setup")
        v = judge_modules.modules_run(P, console, bad, 0, False)
        self.assertEqual(v["status"], "FAIL")
        self.assertTrue(v["detail"].startswith("round-2:"), v["detail"])

    def test_capability_kept_proves_nothing(self):
        console, blocks = recorded(self.RUNS[-1])
        status = blocks["status.txt"].decode()
        eff = next(line for line in status.splitlines() if line.startswith("CapEff:"))
        bad = edited(blocks, "status.txt", eff.encode(), b"CapEff:\t000001ffffffffff")
        v = judge_modules.modules_run(P, console, bad, 0, False)
        self.assertEqual((v["status"], v["detail"]), ("FAIL", "exporter-kept-CAP_SYSLOG"))

    def test_same_address_and_wrong_counts_fail(self):
        console, blocks = recorded(self.RUNS[-1])
        same = dict(blocks, **{"modules.2": blocks["modules.1"]})
        v = judge_modules.modules_run(P, console, same, 0, False)
        self.assertTrue(v["detail"].startswith("reloaded-at-the-same-address"), v["detail"])
        v = judge_modules.modules_run(dict(P, count=1000), console, blocks, 0, False)
        self.assertTrue(v["detail"].startswith("round-1:held-500-of-1000"), v["detail"])

    def test_silent_guest(self):
        v = judge_modules.modules_run(P, "boot noise\n", {}, 0, True)
        self.assertEqual((v["status"], v["detail"]), ("FAIL", "timeout-after-300s"))


class Exposition(unittest.TestCase):
    def test_labels_unescaped_and_objects_joined(self):
        prom = ('slableak_stack_info{cache="kmalloc-2k",stack_id="ab",stack_fn_id="cd",'
                'top_frame="sk_prot_alloc",frames="a+0x1;tun_chr_open+0x2f [tun];q\\"x"} 1\n'
                'slableak_stack_outstanding_objects{cache="kmalloc-2k",stack_id="ab"} 500\n')
        self.assertEqual(judge_modules.stacks(prom), [{
            "cache": "kmalloc-2k", "stack_id": "ab", "objects": 500,
            "frames": ["a+0x1", "tun_chr_open+0x2f [tun]", 'q"x']}])

    def test_module_address_and_capabilities(self):
        self.assertEqual(judge_modules.module_address("tun 61440 0 - Live 0xffffffffc0a2b000\n"),
                         0xffffffffc0a2b000)
        self.assertIsNone(judge_modules.capabilities_dropped("Name: x\n"))
        self.assertTrue(judge_modules.capabilities_dropped(
            "CapPrm:\t0000000000200000\nCapEff:\t0000000000200000\n"))
        self.assertFalse(judge_modules.capabilities_dropped(
            "CapPrm:\t0000000400000000\nCapEff:\t0000000400000000\n"))


if __name__ == "__main__":
    unittest.main()

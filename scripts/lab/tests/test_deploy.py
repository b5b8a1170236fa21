"""Unit tests of the deployment and fleet judges on one recorded run
(tests/data/deploy.tar.gz: `scripts/slk-lab deploy --record`, the files the
judges read from both guests and from the host's fleet phase)."""

import copy
import json
import unittest
from pathlib import Path

from lab import deploy, fleet, judge_deploy, judge_fleet
from lab.guest import REPO

DATA = Path(__file__).resolve().parent / "data"
EXPECTED = 5000  # scenario.conf: HOLDERS * HOLDER_COUNT
# What fails when the path gets one stack_fn_id per kernel.
SPLIT = {"fleet-one-path", "fleet-hosts-affected", "fleet-alert"}
RAW = """PeriodType: space bytes
Period: 1
Samples:
inuse_objects/count inuse_space/bytes[dflt]
          3       6144: 1 2 3
                cache:[kmalloc-2k] stack_id:[ab]
          1       2048: 1 4
                cache:[kmalloc-2k]
          5        640: 1 2 3
                cache:[skbuff_head_cache]
Locations
     1: 0x0 M=1 __alloc_skb :40 s=0
     2: 0x0 M=1 netlink_sendmsg :300 s=0
             netlink_unicast :12 s=0
     3: 0x0 M=1 ____sys_sendmsg :3 s=0
     4: 0x0 M=1 __sys_sendto :9 s=0
Mappings
1: 0x0/0x0/0x0   [kernel.kallsyms]
"""


class Recorded(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rec = deploy.recorded(DATA / "deploy.tar.gz")

    def fleet_checks(self, host=None, guests=None):
        r = self.rec
        return judge_fleet.fleet(host or r["fleet-host"], guests or {"deploy": r["deploy"], "fleet": r["fleet"]})

    def test_every_deploy_check_passes(self):
        checks = judge_deploy.deploy(self.rec["deploy"], EXPECTED)
        self.assertEqual([c for c in checks if not c[1]], [])
        self.assertEqual(len(checks), 14)

    def test_every_fleet_check_passes(self):
        # Recorded on 6.1 and 6.12: 6.1's stack has a __sock_sendmsg frame that
        # 6.12 inlines; the allocation site (__alloc_skb <- netlink_sendmsg) is
        # one stack_fn_id on both, two hosts affected, the fleet alert fired.
        checks = {n: (ok, d) for n, ok, d in self.fleet_checks()}
        self.assertEqual(len(checks), 7)
        self.assertEqual({n for n, (ok, _) in checks.items() if not ok}, set())
        self.assertRegex(checks["fleet-one-path"][1], r"stack_fn_id=[0-9a-f]{16} stack_ids=\w+,\w+")

    def split_path_id(self):
        """The recorded host files with one stack_fn_id per host for the
        leak's path, as a digest of every frame gave them: the fleet guest's
        stacks and per-host rows get an id of their own."""
        host = copy.deepcopy(self.rec["fleet-host"])
        j = json.loads(host["stack-info.json"])
        for s in j["data"]["result"]:
            if s["metric"].get("guest") == "fleet" and set(judge_fleet.PATH_FUNCS) <= {
                    f.split("+")[0] for f in s["metric"].get("frames", "").split(";")}:
                s["metric"]["stack_fn_id"] = "00000000000000bb"
        host["stack-info.json"] = json.dumps(j)
        return host

    def test_one_path_id_per_kernel_fails_the_path_checks(self):
        failed = {n for n, ok, _ in self.fleet_checks(self.split_path_id()) if not ok}
        self.assertEqual(failed, SPLIT)

    def test_a_missing_alert_and_a_wrong_count_fail_their_checks(self):
        files = dict(self.rec["deploy"])
        files["alerts.json"] = json.dumps({"status": "success", "data": {"alerts": []}})
        failed = {name for name, ok, _ in judge_deploy.deploy(files, EXPECTED) if not ok}
        self.assertEqual(failed, {"alert-fired"})
        failed = {name for name, ok, _ in judge_deploy.deploy(files, 4000) if not ok}
        self.assertEqual(failed, {"alert-fired", "leak-in-prometheus"})

    def test_nothing_recorded_fails_everything(self):
        self.assertTrue(all(not ok for _, ok, _ in judge_deploy.deploy({}, EXPECTED)))
        self.assertTrue(all(not ok for _, ok, _ in judge_fleet.fleet({}, {"a": {}, "b": {}})))

    def test_a_merge_without_the_second_host_fails(self):
        host = dict(self.rec["fleet-host"])
        host["pprof-merged.raw"] = host["pprof-deploy.raw"]
        failed = {n for n, ok, _ in self.fleet_checks(host) if not ok}
        self.assertEqual(failed, {"fleet-merged-profile"})

    def test_a_profile_short_of_the_held_count_fails(self):
        host = dict(self.rec["fleet-host"])
        held = dict(line.split() for line in host["held.txt"].splitlines())
        held["fleet"] = str(int(held["fleet"]) * 2)
        host["held.txt"] = "".join("%s %s\n" % kv for kv in held.items())
        failed = {n for n, ok, _ in self.fleet_checks(host) if not ok}
        self.assertEqual(failed, {"fleet-profiles"})

    def test_both_hosts_on_one_kernel_is_not_a_fleet(self):
        r = self.rec
        same = dict(r["fleet"], **{"kernel.txt": r["deploy"]["kernel.txt"]})
        checks = {n: ok for n, ok, _ in self.fleet_checks(None, {"deploy": r["deploy"], "fleet": same})}
        self.assertFalse(checks["fleet-one-path"])


class Pure(unittest.TestCase):
    def test_raw_profile_totals_by_path_and_cache(self):
        self.assertEqual(judge_fleet.path_total(RAW), (3, 6144))
        self.assertEqual(judge_fleet.path_total(RAW, funcs=("netlink_unicast",)), (3, 6144))
        self.assertEqual(judge_fleet.path_total(RAW, funcs=("__alloc_skb",)), (4, 8192))
        self.assertIsNone(judge_fleet.path_total("Main binary filename not available.\n"))

    def test_host_prometheus_scrapes_every_guest(self):
        cfg = fleet.prometheus_config({"b": 2, "a": 1}, Path("/r.yml"))
        self.assertIn("  - /r.yml\n", cfg)
        self.assertLess(cfg.index("127.0.0.1:1'"), cfg.index("127.0.0.1:2'"))
        self.assertIn("guest: b", cfg)

    def test_shorten_for_changes_only_that_alert(self):
        rules = (REPO / "deploy/prometheus/slableak-rules.yml").read_text()
        for alert in (judge_deploy.ALERT, fleet.ALERT):
            out = judge_deploy.shorten_for(rules, alert, "10s")
            changed = [(a, b) for a, b in zip(rules.splitlines(), out.splitlines()[1:]) if a != b]
            self.assertEqual(len(changed), 1)
            self.assertRegex(changed[0][1], r"^\s*for: 10s$")
        with self.assertRaises(ValueError):
            judge_deploy.shorten_for(rules, "NoSuchAlert", "10s")


if __name__ == "__main__":
    unittest.main()

"""Unit tests of scripts/lab: judging recorded guest output, frames, the qemu
command line, the initramfs, apt configuration parsing. No root, no qemu."""

import base64
import gzip
import json
import os
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from lab import debian, frames, judge
from lab.guest import ARCHES, Disk, Guest, LabError, initramfs, shell_conf

DATA = Path(__file__).resolve().parent / "data"


def recorded(name):
    """A recorded guest run: (console text, {block name: bytes})."""
    d = DATA / name
    console = (d / "console.log").read_text()
    data = gzip.decompress((d / "data.log.gz").read_bytes()) if (d / "data.log.gz").exists() else b""
    return console, frames.blocks(data, console)


HOLD = dict(scenario="hold", method="auto", kinds=["kmalloc", "cg", "msg"], count=3000,
            tolerance=2.0, fp_floor=0.1, cache="sock_inode_cache", func="__sys_socketpair",
            timeout=300, attach_timeout=60)
NAMED = dict(HOLD, scenario="named", kinds=["sock"])
BOOKS = dict(HOLD, scenario="books", kinds=["kmalloc", "cg", "msg", "sock"])


class Frames(unittest.TestCase):
    def test_blocks_survive_noise_and_crlf(self):
        body = base64.b64encode(b"hello\n").decode()
        text = "\x1b[0mboot\r\n@@LAB-BEGIN a.txt\r\n%s\r\n@@LAB-END a.txt\r\n" % body
        self.assertEqual(frames.blocks(text.encode()), {"a.txt": b"hello\n"})

    def test_bad_name_dropped_and_bad_base64_noted(self):
        text = "@@LAB-BEGIN ../x\nAAAA\n@@LAB-END ../x\n@@LAB-BEGIN y\nAAA\n@@LAB-END y\n"
        self.assertEqual(frames.blocks(text), {"y": b"<base64 decode failed>\n"})

    def test_said_reads_quoted_fields(self):
        text = "junk MATRIX-HOLDER kind=cg state=ready line=\"ready 3000\" at=3.1\n"
        self.assertEqual(frames.said(text, "MATRIX-HOLDER"),
                         {"kind": "cg", "state": "ready", "line": "ready 3000", "at": "3.1"})
        self.assertEqual(frames.said(text, "MATRIX-GUEST"), {})


class MatrixRecorded(unittest.TestCase):
    """judge.matrix_run on real guest output recorded from qemu."""

    def test_hold_passes_on_each_recorded_kernel(self):
        for name in ("hold-5.10", "hold-6.18"):
            with self.subTest(name):
                console, data = recorded(name)
                v = judge.matrix_run(dict(HOLD, fp_floor=0.0), console, data, 0, False)
                self.assertEqual(v["status"], "PASS", v)
                self.assertRegex(v["held"], r"^kmalloc:kmalloc-2k:\d+/\d+,cg:")

    def test_fingerprint_share_is_printed_and_floored(self):
        # hold-5.10: 5.10.223 before one unwind site per program (9624119):
        # every count right, no allocation ever served from a fingerprint.
        console, data = recorded("hold-5.10")
        v = judge.matrix_run(HOLD, console, data, 0, False)
        self.assertEqual((v["status"], v["fp"]), ("FAIL", "0.000"), v)
        self.assertEqual(v["detail"], "fingerprints-served-0-of-9002-tracked(0.000)-below-floor-0.1"
                         "(mismatches=1)")
        self.assertEqual(judge.matrix_run(dict(HOLD, fp_floor=0.0), console, data, 0, False)["status"],
                         "PASS")
        console, data = recorded("named-6.1")
        v = judge.matrix_run(NAMED, console, data, 0, False)
        self.assertEqual((v["status"], v["fp"]), ("PASS", "0.909"), v)
        v = judge.matrix_run(dict(NAMED, fp_floor=0.95), console, data, 0, False)
        self.assertEqual(v["status"], "FAIL")
        self.assertIn("fingerprints-served-5457-of-6000", v["detail"])

    def test_fingerprints_off_by_design_are_named_not_floored(self):
        console, data = recorded("hold-6.18")
        doc = json.loads(data["slableak.json"])
        doc["stack_fingerprints"] = "off: not proven on arm64"
        doc["tracer"]["stacks_from_cache"] = 0
        data["slableak.json"] = json.dumps(doc).encode()
        v = judge.matrix_run(HOLD, console, data, 0, False)
        self.assertEqual((v["status"], v["fp"]), ("PASS", "off:not_proven_on_arm64"), v)
        doc["stack_fingerprints"] = "on"
        del doc["tracer"]["allocs_tracked"]
        data["slableak.json"] = json.dumps(doc).encode()
        v = judge.matrix_run(HOLD, console, data, 0, False)
        self.assertEqual((v["status"], v["detail"]), ("FAIL", "fingerprints-on-but-no-tracked-allocations"))

    def test_hold_fails_when_a_kind_is_missing_from_the_report(self):
        console, data = recorded("hold-6.18")
        doc = json.loads(data["slableak.json"])
        doc["stacks"] = [s for s in doc["stacks"]
                         if not judge.frame_function(s["frames"][0]).startswith("load_msg")]
        data["slableak.json"] = json.dumps(doc).encode()
        v = judge.matrix_run(HOLD, console, data, 0, False)
        self.assertEqual(v["status"], "FAIL")
        self.assertIn("msg-held-0-in-msg_msg-2k", v["detail"])
        self.assertTrue(any(n.startswith("top all stacks") for n in v["notes"]))

    def test_hold_fails_when_slabinfo_did_not_grow(self):
        console, data = recorded("hold-6.18")
        data["slabinfo.cg"] = data["slabinfo.kmalloc"]
        v = judge.matrix_run(HOLD, console, data, 0, False)
        self.assertEqual(v["status"], "FAIL")
        self.assertIn("cg-grew-", v["detail"])

    def test_named_passes(self):
        console, data = recorded("named-6.1")
        v = judge.matrix_run(NAMED, console, data, 0, False)
        self.assertEqual((v["status"], v["held"], v["func"]), ("PASS", 3000, "__sys_socketpair"), v)
        v = judge.matrix_run(dict(NAMED, func="sock_alloc_file"), console, data, 0, False)
        self.assertEqual(v["status"], "FAIL")

    def test_derived_refusal_before_6_0_is_the_pass(self):
        console, data = recorded("named-derived-5.10")
        v = judge.matrix_run(dict(NAMED, method="derived"), console, data, 0, False)
        self.assertEqual((v["status"], v["method"]), ("PASS", "refused"), v)
        # The same output judged as a normal run is a failure naming the load.
        v = judge.matrix_run(NAMED, console, data, 0, False)
        self.assertEqual(v["status"], "FAIL")
        self.assertIn("slableak failed to load on kernel 5.10", v["notes"][0])

    def test_large_kernel_figure_is_slab_minus_cache_pages(self):
        si = ("slabinfo - version: 2.1\n# name <active_objs> ...\n"
              "kmalloc-2k 320 384 2048 16 8 : tunables 0 0 0 : slabdata 24 24 0\n"
              "filp 100 120 256 16 1 : tunables 0 0 0 : slabdata 7 8 0\n")
        mi = "MemTotal: 1000 kB\nSlab: 2048 kB\nSUnreclaim: 1024 kB\n"
        self.assertEqual(judge.large_kernel_bytes(si, mi), 2048 * 1024 - (24 * 8 + 8) * 4096)
        self.assertIsNone(judge.large_kernel_bytes(si, "MemTotal: 1 kB\n"))
        self.assertIsNone(judge.large_kernel_bytes("kmalloc-8 1 2 8\n", mi))

    def test_timeout_and_silent_guest(self):
        v = judge.matrix_run(HOLD, "booting...\n", {}, -9, True)
        self.assertEqual((v["status"], v["detail"]), ("FAIL", "timeout-after-300s"))
        v = judge.matrix_run(HOLD, "booting...\n", {}, 1, False)
        self.assertEqual(v["detail"], "no-guest-verdict(qemu-rc=1)")
        self.assertIn("| booting...", v["notes"])

    def test_report_before_holders_ready_fails(self):
        console, data = recorded("hold-6.12-short")
        v = judge.matrix_run(HOLD, console, data, 0, False)
        self.assertEqual(v["detail"], "guest:slableak-finished-before-holder-ready(--duration-too-short)")

    def test_guest_failure_detail_is_passed_on(self):
        console = "MATRIX-GUEST kernel=6.1.0 status=FAIL slableak=attach-timeout detail=x-y\n"
        v = judge.matrix_run(HOLD, console, {}, 0, False)
        self.assertEqual(v["detail"], "guest:x-y")


class Judge(unittest.TestCase):
    def doc(self, stacks, method="kfunc", caches=("kmalloc-2k",)):
        return {"cache_method": method, "caches": [{"name": c} for c in caches],
                "stacks": [dict(cache=c, objects=n, bytes=n * 2048, frames=f) for c, n, f in stacks]}

    def test_schema_problems_are_named(self):
        self.assertEqual(judge.snapshot_problem([]), "schema:top-level-not-object")
        self.assertEqual(judge.snapshot_problem({"cache_method": "guess"}), "schema:cache_method='guess'")
        d = self.doc([("kmalloc-2k", True, ["a"])])
        self.assertEqual(judge.snapshot_problem(d), "schema:stacks[0].objects")

    def test_named_tolerance_and_frame_suffixes(self):
        d = self.doc([("sock_inode_cache", 2950, ["sock_alloc_inode+0x1/0x2", "__sys_socketpair.cold+0x5"])])
        self.assertEqual(judge.named(d, "sock_inode_cache", 3000, 2, "__sys_socketpair")["status"], "PASS")
        self.assertEqual(judge.named(d, "sock_inode_cache", 3000, 1, "__sys_socketpair")["status"], "FAIL")
        self.assertIn("no-sock_inode_cache-stack", judge.named(d, "sock_inode_cache", 3000, 2, "x")["detail"])

    def test_kinds_misfiled_objects_fail(self):
        base = "slabinfo - version: 2.1\nkmalloc-2k 100 200 2048 16 8\n"
        grown = "slabinfo - version: 2.1\nkmalloc-2k 3100 3200 2048 16 8\n"
        d = self.doc([("kmalloc-2k", 3000, ["__alloc_skb+0x1"]), ("kmalloc-cg-2k", 200, ["__alloc_skb"])],
                     caches=("kmalloc-2k", "kmalloc-cg-2k"))
        v = judge.kinds(d, {"base": base, "kmalloc": grown}, ["kmalloc"], 3000, 2)
        self.assertEqual(v["status"], "FAIL")
        self.assertEqual(v["detail"], "kmalloc-misfiled-200-outside-kmalloc-2k")
        d["stacks"].pop()
        self.assertEqual(judge.kinds(d, {"base": base, "kmalloc": grown}, ["kmalloc"], 3000, 2)["status"], "PASS")

    def test_cost_medians_and_ratio(self):
        tsv = "".join("%s %d ns_per_op 1 ops 10 cpu_ns_per_op %d\n" % (c, r, v)
                      for r in (1, 2, 3) for c, v in (("untraced", 1000), ("floor", 1100),
                                                      ("exact", 1400), ("exact-nocache", 1500)))
        v = judge.cost(tsv)
        self.assertEqual((v["status"], v["floor_added_ns"], v["exact_x_floor"]), ("PASS", "+100", "4.00"))
        self.assertEqual(judge.cost("untraced 1 cpu_ns_per_op 5\n")["detail"],
                         "no-rows-for:floor,exact,exact-nocache")


SKB = ("__alloc_skb", "netlink_sendmsg", "__sys_sendto", "do_syscall_64")


def traces(*recs):
    """alloc_traces text: (count, frames from inside SLUB outwards)."""
    out = ""
    for n, frames_ in recs:
        out += "%7d %s+0x8e/0x1d0 age=10 pid=50 cpus=0\n" % (n, frames_[2])
        out += "".join("        %s+0x1/0x40\n" % f for f in frames_) + "\n"
    return out


class Books(unittest.TestCase):
    """judge.books: slableak's objects per stack against SLUB's alloc_traces."""

    def doc(self, *stacks):
        return {"cache_method": "kfunc", "stacks": [
            dict(cache=c, objects=n, bytes=n * 4096, frames=["%s+0x8e/0x1d0" % f for f in fr])
            for c, n, fr in stacks]}

    def books(self, doc, base, end):
        return judge.books(doc, {"kmalloc-2k": base}, {"kmalloc-2k": end})

    def test_stackdepot_frames_map_past_the_allocator(self):
        slub = ("___slab_alloc", "__kmalloc_node_track_caller.cold", "kmalloc_reserve") + SKB
        v = self.books(self.doc(("kmalloc-2k", 3000, SKB)), traces((1, slub)), traces((3001, slub)))
        self.assertEqual((v["status"], v["stacks"], v["books"], v["slot"]),
                         ("PASS", 1, "traces", "kmalloc-2k:4096"), v)
        self.assertEqual(v["worst"], "0(0.00%)@kmalloc-2k:__alloc_skb<-netlink_sendmsg<-__sys_sendto"
                         "<-do_syscall_64")

    def test_per_stack_error_beyond_one_percent_or_two_objects_fails(self):
        slub = ("___slab_alloc", "__kmalloc") + SKB
        end = traces((3000, slub))
        self.assertEqual(self.books(self.doc(("kmalloc-2k", 2970, SKB)), "", end)["status"], "PASS")
        v = self.books(self.doc(("kmalloc-2k", 2969, SKB)), "", end)
        self.assertEqual(v["status"], "FAIL")
        self.assertIn("slableak-2969-kernel-3000(at-attach-0)", v["detail"])
        small = traces((10, slub))
        self.assertEqual(self.books(self.doc(("kmalloc-2k", 8, SKB)), "", small)["status"], "PASS")
        self.assertEqual(self.books(self.doc(("kmalloc-2k", 7, SKB)), "", small)["status"], "FAIL")

    def test_objects_live_before_attach_widen_the_range_only_downwards(self):
        slub = ("___slab_alloc", "__kmalloc") + SKB
        base, end = traces((40, slub)), traces((100, slub))
        for got, status in ((57, "FAIL"), (58, "PASS"), (100, "PASS"), (103, "FAIL")):
            with self.subTest(got):
                self.assertEqual(self.books(self.doc(("kmalloc-2k", got, SKB)), base, end)["status"],
                                 status)

    def test_a_held_stack_the_kernel_does_not_list_fails(self):
        slub = ("___slab_alloc", "__kmalloc") + SKB
        other = ("load_msg", "do_msgsnd", "do_syscall_64")
        v = self.books(self.doc(("kmalloc-2k", 3000, SKB), ("kmalloc-2k", 1, other)), "",
                       traces((3000, slub)))
        self.assertEqual(v["status"], "FAIL")
        self.assertIn("held-1-under-a-stack-the-kernel-does-not-list:load_msg<-do_msgsnd", v["detail"])

    def test_objects_the_kernel_lists_and_slableak_missed_fail(self):
        slub = ("___slab_alloc", "__kmalloc") + SKB
        msg = ("___slab_alloc", "__kmalloc", "load_msg", "do_msgsnd", "do_syscall_64")
        v = self.books(self.doc(("kmalloc-2k", 3000, SKB)), traces((5, msg)),
                       traces((3000, slub), (3005, msg)))
        self.assertEqual(v["status"], "FAIL")
        self.assertIn("kmalloc-2k:load_msg<-do_msgsnd<-do_syscall_64-slableak-0-kernel-3005", v["detail"])

    def test_a_stack_slub_cut_at_16_frames_matches_the_longer_one(self):
        deep = tuple("f%d" % i for i in range(20))
        slub = ("___slab_alloc", "__kmalloc") + deep[:14]
        v = self.books(self.doc(("kmalloc-2k", 500, deep), ("kmalloc-2k", 500, deep[:15] + ("g",))),
                       "", traces((1000, slub)))
        self.assertEqual((v["status"], v["stacks"]), ("PASS", 1), v)
        # Uncut, the kernel's stack must be slableak's whole stack.
        v = self.books(self.doc(("kmalloc-2k", 3000, SKB + ("x",))), "",
                       traces((3000, ("___slab_alloc", "__kmalloc") + SKB)))
        self.assertIn("does-not-list", v["detail"])

    def test_call_sites_on_5_10(self):
        calls = ("   3000 __alloc_skb+0x79/0x1d0 age=1/2/3 pid=40-41 cpus=0\n"
                 "      2 load_msg+0x37/0x190 age=5 pid=1 cpus=0\n")
        v = self.books(self.doc(("kmalloc-2k", 3000, ("kmalloc_reserve",) + SKB),
                                ("kmalloc-2k", 1, ("load_msg", "do_msgsnd"))), "", calls)
        self.assertEqual((v["status"], v["stacks"], v["books"]), ("PASS", 2, "calls"), v)
        v = self.books(self.doc(("kmalloc-2k", 1, ("a", "b", "load_msg"))), "", calls)
        self.assertIn("does-not-list", v["detail"])

    def test_a_cache_without_books_fails(self):
        v = judge.books(self.doc(("kmalloc-2k", 3, SKB)), {}, {})
        self.assertEqual(v["detail"], "no-kernel-books-for-kmalloc-2k(1-stacks-held);no-stack-compared")


class BooksRecorded(unittest.TestCase):
    """judge.matrix_run on books runs recorded from qemu (slub_debug=U)."""

    def skb_stack(self, doc):
        return next(st for st in doc["stacks"] if st["cache"] == "kmalloc-2k" and st["frames"]
                    and judge.frame_function(st["frames"][0]) == "__alloc_skb"
                    and st["objects"] >= 3000)

    def test_books_pass_per_stack_on_recorded_kernels(self):
        # 6.18: KFENCE built, off by kfence.sample_interval=0; 5.10: not built.
        for name, books, kfence, least in (("books-6.18", "traces", "0", 6),
                                           ("books-5.10", "calls", "none", 5)):
            with self.subTest(name):
                console, data = recorded(name)
                v = judge.matrix_run(BOOKS, console, data, 0, False)
                self.assertEqual((v["status"], v["books"], v["kfence"]), ("PASS", books, kfence), v)
                self.assertGreaterEqual(v["stacks"], least)
                self.assertTrue(v["worst"].startswith("0(0.00%)@"), v["worst"])

    def test_books_catch_lost_frees_and_wrong_stacks(self):
        for name in ("books-6.18", "books-5.10"):
            with self.subTest(name):
                console, data = recorded(name)
                doc = json.loads(data["slableak.json"])
                skb = self.skb_stack(doc)
                skb["objects"] += 31  # frees of the churning path that slableak missed
                data["slableak.json"] = json.dumps(doc).encode()
                v = judge.matrix_run(BOOKS, console, data, 0, False)
                self.assertEqual(v["status"], "FAIL")
                self.assertRegex(v["detail"], r"kmalloc-2k:[^;]*-slableak-%d-kernel-%d" % (
                    skb["objects"], skb["objects"] - 31))
                skb["objects"] -= 31
                skb["frames"] = ["tcp_sendmsg+0x1"] + skb["frames"]  # filed under another stack
                data["slableak.json"] = json.dumps(doc).encode()
                v = judge.matrix_run(BOOKS, console, data, 0, False)
                self.assertEqual(v["status"], "FAIL")
                self.assertIn("kmalloc-2k-held-%d-under-a-stack-the-kernel-does-not-list:tcp_sendmsg"
                              % skb["objects"], v["detail"])

    def test_books_need_kfence_off(self):
        console, data = recorded("books-6.18")
        console = console.replace("kfence_sample_interval=0", "kfence_sample_interval=100")
        v = judge.matrix_run(BOOKS, console, data, 0, False)
        self.assertEqual(v["status"], "FAIL")
        self.assertIn("kfence-sample-interval-100", v["detail"])


class Runner(unittest.TestCase):
    def test_qemu_command_line(self):
        g = Guest(name="a", kernel=Path("/k/vmlinuz"), out=Path("/o"), initrd=Path("/i"),
                  memory_mib=320, cmdline=("slub_debug=U,kmalloc-2k",), forwards={9400: 9435},
                  disks=(Disk(Path("/p,x.tar"), readonly=True),))
        argv = g.argv()
        self.assertEqual(argv[0], "qemu-system-x86_64")
        self.assertEqual(argv[argv.index("-m") + 1], "320")
        self.assertEqual(argv[argv.index("-append") + 1],
                         "console=ttyS0 panic=-1 quiet slub_debug=U,kmalloc-2k")
        self.assertIn("user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:9400-:9435", argv)
        self.assertIn("if=none,id=d0,format=raw,readonly=on,file=/p,,x.tar", argv)
        self.assertIn("file,id=labdata,path=/o/data.log", argv)
        self.assertEqual(argv[argv.index("-accel") + 1], "tcg")
        two = Guest(name="c", kernel=Path("/k"), out=Path("/o"), image=Path("/root.img"), cpus=2).argv()
        self.assertEqual(two[two.index("-accel") + 1], "tcg,thread=single")
        arm = Guest(name="b", kernel=Path("/k"), out=Path("/o"), arch=ARCHES["arm64"],
                    image=Path("/root.img")).argv()
        self.assertEqual(arm[0], "qemu-system-aarch64")
        self.assertIn("none", arm)
        self.assertIn("root=PARTUUID=51ab1eaf-01", arm[arm.index("-append") + 1])
        self.assertNotIn("chardev:labdata", arm)

    def test_own_root_copy_and_control_line(self):
        shared = Guest(name="a", kernel=Path("/k"), out=Path("/o/a"), image=Path("/c/root.img")).argv()
        self.assertIn("if=none,id=d0,format=raw,snapshot=on,file=/c/root.img", shared)
        self.assertNotIn("chardev:labctl", shared)
        own = Guest(name="b", kernel=Path("/k"), out=Path("/o/b"), image=Path("/c/root.img"),
                    keep_root=True, control=True).argv()
        self.assertIn("if=none,id=d0,format=raw,file=/o/b/root.img", own)
        self.assertIn("socket,id=labctl,server=on,wait=off,path=/o/b/control.sock", own)
        # the control UART comes after the data UART: the guest's /dev/ttyS2
        serials = [own[i + 1] for i, x in enumerate(own) if x == "-serial"]
        self.assertEqual(serials, ["mon:stdio", "chardev:labdata", "chardev:labctl"])

    def test_each_guest_is_timed_to_its_own_end(self):
        # The first guest outlives the second: the second's time is its own.
        from lab import guest
        with tempfile.TemporaryDirectory() as t:
            rs, t0 = [], time.monotonic()
            for name, argv in (("long", ["sleep", "1"]), ("short", ["true"])):
                r = object.__new__(guest.Running)
                r.guest = Guest(name=name, kernel=Path("/k"), out=Path(t) / name, timeout=60)
                r.guest.out.mkdir()
                for f in ("console.log", "data.log"):
                    (r.guest.out / f).write_bytes(b"")
                r.t0, r._ctl, r.ended = t0, None, None
                r.proc = subprocess.Popen(argv)
                rs.append(r)
            long_run, short_run = guest.wait(rs)
        self.assertLess(short_run.seconds, long_run.seconds)

    def test_initramfs_holds_init_library_and_config(self):
        with tempfile.TemporaryDirectory() as t:
            bb = Path(t) / "busybox"
            bb.write_text("#!/bin/sh\n")
            out = initramfs(Path(t) / "i.gz", ARCHES["amd64"],
                            {"/init": b"#!/bin/sh\n", "/lab.conf": shell_conf({"A": "x y"})}, bb)
            raw = gzip.decompress(out.read_bytes())
            for name in (b"init\0", b"lab.sh\0", b"dev/console\0", b"bin/busybox\0", b"TRAILER!!!"):
                self.assertIn(name, raw)
            self.assertIn(b"A='x y'\n", raw)
            with self.assertRaises(LabError):
                initramfs(Path(t) / "j.gz", ARCHES["amd64"], {"/init": b""},
                          Path(t) / "missing")

    def test_modules_in_dependency_order_from_modinfo(self):
        # A kernel .deb ships no modules.dep (depmod writes it on install):
        # the order comes from each module's own depends=.
        import lzma
        with tempfile.TemporaryDirectory() as t:
            base = Path(t) / "x/lib/modules/6.1.0-1-cloud-amd64/kernel"
            (base / "net").mkdir(parents=True)
            mod = lambda deps: b"\x7fELF junk\0license=GPL\0depends=" + deps + b"\0vermagic=6.1\0"
            (base / "net/virtio_net.ko.xz").write_bytes(lzma.compress(mod(b"net_failover,virtio")))
            (base / "net/net_failover.ko").write_bytes(mod(b"failover"))
            (base / "net/failover.ko").write_bytes(mod(b""))
            (base / "virtio.ko").write_bytes(mod(b""))
            debian._extract_modules(Path(t) / "x", ("virtio_pci", "virtio_net"), Path(t) / "m")
            self.assertEqual((Path(t) / "m/order").read_text().split(),
                             ["failover.ko", "net_failover.ko", "virtio.ko", "virtio_net.ko"])
            self.assertEqual((Path(t) / "m/release").read_text(), "6.1.0-1-cloud-amd64\n")
            self.assertIn(b"depends=net_failover", (Path(t) / "m/virtio_net.ko").read_bytes())

    def test_payload_run_sh_is_executable(self):
        import tarfile
        from lab import image
        with tempfile.TemporaryDirectory() as t:
            (Path(t) / "s.sh").write_text("#!/bin/sh\n")  # 0644 in git, as scenario.sh
            image.tar_disk(Path(t) / "p.tar", {"run.sh": Path(t) / "s.sh", "a.conf": b"A=1\n"})
            with tarfile.open(Path(t) / "p.tar") as tf:
                self.assertEqual({m.name: m.mode for m in tf}, {"run.sh": 0o755, "a.conf": 0o644})

    def test_root_partition_found_by_partuuid(self):
        import struct
        from lab import image
        with tempfile.TemporaryDirectory() as t:
            img = Path(t) / "root.img"
            img.write_bytes(b"\0" * (4 << 20))
            image._write_mbr(img, 4 << 20)
            head = img.read_bytes()[:512]
        sig, = struct.unpack("<I", head[440:444])
        kind, first, count = struct.unpack("<4xB3xII", head[446:462])
        # the kernel's root=PARTUUID=SSSSSSSS-PP for an MBR disk
        self.assertEqual("%08x-%02d" % (sig, 1), "51ab1eaf-01")
        self.assertEqual((kind, first * 512, (first + count) * 512), (0x83, 1 << 20, 4 << 20))
        self.assertEqual(head[510:], b"\x55\xaa")

    def test_mirror_and_series(self):
        entries = [(["deb"], ["http://sec.example/debian-security"], ["bookworm-security"]),
                   (["deb"], ["http://m.example/debian-ports/"], ["sid"]),
                   (["deb"], ["http://m.example/debian/"], ["bookworm"])]
        os.environ.pop("SLABLEAK_APT_MIRROR", None)
        self.assertEqual(debian.mirror(entries), "http://m.example/debian")
        with self.assertRaises(LabError):
            debian.mirror(entries[:1])
        listing = "# c\n6.1 bookworm\n6.18 trixie-backports ^linux-image-x$\n"
        self.assertEqual(debian.series_suite("6.1", listing), ("bookworm", None))
        self.assertEqual(debian.series_suite("6.18", listing), ("trixie-backports", "^linux-image-x$"))
        self.assertEqual(debian.series_suite("6.9@sid", listing), ("sid", None))
        with self.assertRaises(LabError):
            debian.series_suite("4.19", listing)


if __name__ == "__main__":
    unittest.main()

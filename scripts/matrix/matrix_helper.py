#!/usr/bin/env python3
"""Host-side helpers for scripts/kernel-matrix.sh (standard library only).

Subcommands:
  mirror                      print the Debian mirror URI taken from this machine's
                              apt configuration (deb822 *.sources or one-line *.list)
  mkinitramfs STAGING OUT     write STAGING as a gzip'd cpio (newc) archive, owned by
                              root, with /dev/console added (no root or mknod needed)
  extract DIR LOG...          pull the framed, base64 data blocks the guest wrote
                              ("@@MATRIX-BEGIN name" .. "@@MATRIX-END name") out of
                              the serial logs into DIR/name
  elfkind PATH                print static, dynamic or not-elf
  elfarch PATH                print the Debian architecture of an ELF file (amd64,
                              arm64, other-<e_machine>) or not-elf
  check JSON                  check a `slableak snapshot --format json` document of the
                              named scenario (options: --cache --count --tolerance
                              --func); prints
                              key=value pairs on one line, exits 0 on PASS, 1 on FAIL
  kinds DIR                   check the hold scenario's results in DIR: slableak.json and
                              the guest's slabinfo before the holders (slabinfo.base) and
                              after each kind was ready (slabinfo.KIND); options: --kinds
                              --count --tolerance. Prints key=value pairs on one line,
                              exits 0 on PASS, 1 on FAIL
  top JSON                    list the biggest stacks of --cache, or of every cache
                              (FAIL diagnostics)
  cost TSV                    medians of the guest's cost rounds ("CONFIG ROUND ns_per_op X
                              ops N cpu_ns_per_op Y"): per configuration the added churn
                              CPU ns per op over untraced, and that as a multiple of the
                              floor's; prints key=value pairs, exits 1 if rows are missing
"""

import argparse
import base64
import binascii
import glob
import gzip
import json
import os
import re
import stat
import sys


# ---------------------------------------------------------------- mirror

def _deb822_stanzas(text):
    stanza, key = {}, None
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if stanza:
                yield stanza
            stanza, key = {}, None
            continue
        if raw[0] in " \t" and key:
            stanza[key] += " " + raw.strip()
            continue
        if ":" in raw:
            key, val = raw.split(":", 1)
            key = key.strip().lower()
            stanza[key] = val.strip()
    if stanza:
        yield stanza


def _apt_entries():
    """Yield (types, uris, suites) from the system apt configuration."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        for st in _deb822_stanzas(text):
            if st.get("enabled", "yes").lower() == "no":
                continue
            yield (st.get("types", "").split(), st.get("uris", "").split(),
                   st.get("suites", "").split())
    lists = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in lists:
        try:
            lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            line = re.sub(r"\[[^\]]*\]", " ", line)  # drop [ options ]
            parts = line.split()
            if len(parts) >= 3:
                yield ([parts[0]], [parts[1]], [parts[2]])


def cmd_mirror(_args):
    candidates = []
    for types, uris, suites in _apt_entries():
        if "deb" not in types:
            continue
        if any(s.endswith("-security") or "/" in s for s in suites):
            continue
        for uri in uris:
            if not re.match(r"^https?://", uri) or uri.rstrip("/").endswith("-security"):
                continue
            candidates.append(uri.rstrip("/"))
    # Prefer the plain archive (path ending in /debian) over ports, backports mirrors...
    candidates.sort(key=lambda u: 0 if u.endswith("/debian") else 1)
    if not candidates:
        print("no usable http(s) Debian mirror in /etc/apt/sources.list.d/*.sources "
              "or /etc/apt/sources.list; set SLABLEAK_APT_MIRROR", file=sys.stderr)
        return 1
    print(candidates[0])
    return 0


# ---------------------------------------------------------------- initramfs

def _cpio_entry(out, name, mode, data=b"", ino=0, rdevmajor=0, rdevminor=0, nlink=1):
    name_b = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevmajor, rdevminor,
        len(name_b), 0))
    out.write(hdr.encode() + name_b)
    out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
    out.write(data)
    out.write(b"\0" * ((4 - len(data) % 4) % 4))


def cmd_mkinitramfs(args):
    ino = 1
    seen = set()
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb",
                                                    compresslevel=6, mtime=0) as out:
        for root, dirs, files in os.walk(args.staging):
            dirs.sort()
            rel_root = os.path.relpath(root, args.staging)
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(root, name)
                rel = os.path.normpath(os.path.join(rel_root, name))
                st = os.lstat(path)
                perm = stat.S_IMODE(st.st_mode)
                if stat.S_ISDIR(st.st_mode):
                    _cpio_entry(out, rel, stat.S_IFDIR | perm, ino=ino, nlink=2)
                elif stat.S_ISLNK(st.st_mode):
                    _cpio_entry(out, rel, stat.S_IFLNK | 0o777,
                                os.readlink(path).encode(), ino=ino)
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        _cpio_entry(out, rel, stat.S_IFREG | perm, f.read(), ino=ino)
                else:
                    continue
                seen.add(rel)
                ino += 1
        if "dev" not in seen:
            _cpio_entry(out, "dev", stat.S_IFDIR | 0o755, ino=ino, nlink=2)
            ino += 1
        if "dev/console" not in seen:
            _cpio_entry(out, "dev/console", stat.S_IFCHR | 0o600, ino=ino,
                        rdevmajor=5, rdevminor=1)
            ino += 1
        _cpio_entry(out, "TRAILER!!!", 0)
    return 0


# ---------------------------------------------------------------- elfkind

def cmd_elfkind(args):
    """static / dynamic (has PT_INTERP) / not-elf, without binutils."""
    import struct
    with open(args.path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF":
            print("not-elf")
            return 0
        is64 = head[4] == 2
        end = "<" if head[5] == 1 else ">"
        if is64:
            phoff, = struct.unpack(end + "Q", head[32:40])
            phentsize, phnum = struct.unpack(end + "HH", head[54:58])
        else:
            phoff, = struct.unpack(end + "I", head[28:32])
            phentsize, phnum = struct.unpack(end + "HH", head[42:46])
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, = struct.unpack(end + "I", f.read(4))
            if p_type == 3:  # PT_INTERP
                print("dynamic")
                return 0
    print("static")
    return 0


# e_machine -> Debian architecture name (the names --arch of kernel-matrix.sh takes).
ELF_MACHINES = {62: "amd64", 183: "arm64"}


def cmd_elfarch(args):
    import struct
    with open(args.path, "rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        print("not-elf")
        return 0
    end = "<" if head[5] == 1 else ">"
    machine, = struct.unpack(end + "H", head[18:20])
    print(ELF_MACHINES.get(machine, "other-%d" % machine))
    return 0


# ---------------------------------------------------------------- extract

def cmd_extract(args):
    os.makedirs(args.dir, exist_ok=True)
    blocks = {}
    for log in args.logs:
        try:
            lines = open(log, "rb").read().decode("ascii", errors="replace").splitlines()
        except OSError:
            continue
        cur = None
        for line in lines:
            line = line.strip("\r\n\x00 ")
            m = re.search(r"@@MATRIX-BEGIN (\S+)", line)
            if m:
                cur = m.group(1)
                blocks[cur] = []
                continue
            m = re.search(r"@@MATRIX-END (\S+)", line)
            if m:
                cur = None
                continue
            if cur is not None and re.fullmatch(r"[A-Za-z0-9+/=]+", line):
                blocks[cur].append(line)
    for name, chunks in blocks.items():
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            continue
        try:
            data = base64.b64decode("".join(chunks))
        except (binascii.Error, ValueError):
            data = b"<base64 decode failed>\n"
        with open(os.path.join(args.dir, name), "wb") as f:
            f.write(data)
    print(" ".join(sorted(blocks)))
    return 0


# ---------------------------------------------------------------- check

FRAME_RE = re.compile(r"^\s*([^\s+]+)(?:\+0x[0-9a-fA-F]+)?(?:/0x[0-9a-fA-F]+)?(?:\s+\[[^\]]+\])?\s*$")


def frame_function(frame):
    m = FRAME_RE.match(frame)
    return m.group(1) if m else frame.strip()


def cmd_check(args):
    res = {"method": "-", "held": "-", "expected": args.count, "func": "-"}

    def done(status, detail):
        res["status"] = status
        res["detail"] = detail.replace(" ", "_")
        print(" ".join("%s=%s" % (k, res[k]) for k in
                       ("status", "method", "held", "expected", "func", "detail")))
        return 0 if status == "PASS" else 1

    try:
        with open(args.json, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        return done("FAIL", "bad-json:%s" % type(e).__name__)
    if not isinstance(doc, dict):
        return done("FAIL", "schema:top-level-not-object")
    method = doc.get("cache_method")
    res["method"] = method if isinstance(method, str) and method else "-"
    if method not in ("kfunc", "slab", "derived"):
        return done("FAIL", "schema:cache_method=%r" % (method,))
    stacks = doc.get("stacks")
    if not isinstance(stacks, list):
        return done("FAIL", "schema:stacks-not-array")
    func_re = re.compile(args.func)
    held, matching, best, cache_total = 0, 0, 0, 0
    found_funcs = []
    for i, s in enumerate(stacks):
        if not isinstance(s, dict):
            return done("FAIL", "schema:stacks[%d]-not-object" % i)
        for key, typ in (("cache", str), ("objects", int), ("bytes", int), ("frames", list)):
            if not isinstance(s.get(key), typ) or isinstance(s.get(key), bool):
                return done("FAIL", "schema:stacks[%d].%s" % (i, key))
        if not all(isinstance(fr, str) for fr in s["frames"]):
            return done("FAIL", "schema:stacks[%d].frames-not-strings" % i)
        if s["cache"] != args.cache:
            continue
        cache_total += s["objects"]
        hit = None
        for fr in s["frames"]:
            fn = frame_function(fr)
            base = fn.split(".", 1)[0]  # foo.isra.0, foo.cold, foo.constprop.0
            if func_re.fullmatch(fn) or func_re.fullmatch(base):
                hit = base
                break
        if hit:
            matching += 1
            held += s["objects"]
            best = max(best, s["objects"])
            if hit not in found_funcs:
                found_funcs.append(hit)
    res["held"] = held
    res["func"] = ",".join(found_funcs) if found_funcs else "-"
    tol = args.count * args.tolerance / 100.0
    extra = "stacks=%d,best_stack=%d,%s_total=%d" % (matching, best, args.cache, cache_total)
    if not matching:
        return done("FAIL", "no-%s-stack-with-frame~/%s/,%s" % (args.cache, args.func, extra))
    if abs(held - args.count) > tol:
        return done("FAIL", "held-%d-not-within-%g%%-of-%d,%s" % (held, args.tolerance,
                                                               args.count, extra))
    return done("PASS", extra)


# The function that calls the allocator for each holder kind (tests/support/holder.c):
# the first frame of its stacks. alloc_msg is load_msg's helper where it is not inlined.
KIND_FUNCS = {
    "kmalloc": "__alloc_skb",
    "cg": "pipe_resize_ring",
    "msg": "load_msg|alloc_msg",
}


def read_slabinfo(path):
    """{cache: active_objs} of the caches in the 2 KiB size class (object size
    1025..2048: the class every holder kind allocates in; each kind also makes
    smaller objects, such as an sk_buff or a struct file, in other caches)."""
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("#") or line.startswith("slabinfo"):
                continue
            parts = line.split()
            if len(parts) >= 4 and parts[1].isdigit() and parts[3].isdigit() and \
                    1024 < int(parts[3]) <= 2048:
                out[parts[0]] = int(parts[1])
    return out


def cmd_kinds(args):
    """Each kind counted within --tolerance % of --count, in the cache that grew by
    that much in the guest's /proc/slabinfo while its holder started, under stacks
    whose first frame is the kind's allocating function; no object of that function
    filed in another cache."""
    kinds = args.kinds.split()
    res = {"method": "-", "held": "-", "func": "-"}

    def done(status, detail):
        res["status"] = status
        res["detail"] = detail.replace(" ", "_")
        print(" ".join("%s=%s" % (k, res[k]) for k in
                       ("status", "method", "held", "func", "detail")))
        return 0 if status == "PASS" else 1

    try:
        with open(os.path.join(args.dir, "slableak.json"), encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        return done("FAIL", "bad-json:%s" % type(e).__name__)
    if not isinstance(doc, dict):
        return done("FAIL", "schema:top-level-not-object")
    method = doc.get("cache_method")
    res["method"] = method if isinstance(method, str) and method else "-"
    if method not in ("kfunc", "slab", "derived"):
        return done("FAIL", "schema:cache_method=%r" % (method,))
    stacks = doc.get("stacks")
    if not isinstance(stacks, list):
        return done("FAIL", "schema:stacks-not-array")
    for i, s in enumerate(stacks):
        if not isinstance(s, dict):
            return done("FAIL", "schema:stacks[%d]-not-object" % i)
        for key, typ in (("cache", str), ("objects", int), ("frames", list)):
            if not isinstance(s.get(key), typ) or isinstance(s.get(key), bool):
                return done("FAIL", "schema:stacks[%d].%s" % (i, key))
        if not all(isinstance(fr, str) for fr in s["frames"]):
            return done("FAIL", "schema:stacks[%d].frames-not-strings" % i)
    selected = {c.get("name") for c in doc.get("caches", []) if isinstance(c, dict)}
    tol = args.count * args.tolerance / 100.0
    try:
        prev = read_slabinfo(os.path.join(args.dir, "slabinfo.base"))
    except OSError:
        return done("FAIL", "no-slabinfo.base")
    held_all, funcs, failures = [], [], []
    for kind in kinds:
        try:
            cur = read_slabinfo(os.path.join(args.dir, "slabinfo." + kind))
        except OSError:
            return done("FAIL", "no-slabinfo.%s" % kind)
        if not cur:
            return done("FAIL", "no-2k-cache-in-slabinfo.%s" % kind)
        grown, growth = max(((c, cur[c] - prev.get(c, 0)) for c in cur), key=lambda x: x[1])
        prev = cur
        func_re = re.compile(KIND_FUNCS.get(kind, kind))
        per_cache, first_funcs = {}, set()
        for s in stacks:
            if not s["frames"]:
                continue
            fn = frame_function(s["frames"][0]).split(".", 1)[0]  # foo.isra.0, foo.cold
            if func_re.fullmatch(fn):
                per_cache[s["cache"]] = per_cache.get(s["cache"], 0) + s["objects"]
                first_funcs.add(fn)
        held = per_cache.get(grown, 0)
        misfiled = sum(v for c, v in per_cache.items() if c != grown)
        held_all.append("%s:%s:%d/%d" % (kind, grown, held, growth))
        funcs.append(",".join(sorted(first_funcs)) or "-")
        if abs(growth - args.count) > tol:
            failures.append("%s-grew-%s-by-%d-not-%d" % (kind, grown, growth, args.count))
        elif grown not in selected:
            failures.append("%s-grew-%s-which-slableak-did-not-follow" % (kind, grown))
        elif abs(held - args.count) > tol:
            failures.append("%s-held-%d-in-%s-not-within-%g%%-of-%d(first-frame~/%s/,elsewhere=%s)" % (
                kind, held, grown, args.tolerance, args.count, func_re.pattern,
                ",".join("%s:%d" % kv for kv in sorted(per_cache.items()) if kv[0] != grown) or "0"))
        elif misfiled > tol:
            failures.append("%s-misfiled-%d-outside-%s" % (kind, misfiled, grown))
    res["held"] = ",".join(held_all)
    res["func"] = ";".join(funcs)
    if failures:
        return done("FAIL", ";".join(failures))
    return done("PASS", "kinds=%s" % "+".join(kinds))


COST_CONFIGS = ("untraced", "floor", "exact", "exact-nocache")


def cmd_cost(args):
    """Added churn CPU ns per kmalloc+kfree pair, and x floor, from one boot."""
    import statistics
    rows = {}
    try:
        lines = open(args.tsv, encoding="utf-8").read().splitlines()
    except OSError as e:
        print("status=FAIL detail=no-cost-data:%s" % type(e).__name__)
        return 1
    for line in lines:
        f = line.split()
        if len(f) < 2 or f[0] not in COST_CONFIGS:
            continue
        kv = dict(zip(f[2::2], f[3::2]))
        try:
            rows.setdefault(f[0], []).append(float(kv["cpu_ns_per_op"]))
        except (KeyError, ValueError):
            continue
    missing = [c for c in COST_CONFIGS if not rows.get(c)]
    if missing:
        print("status=FAIL detail=no-rows-for:%s" % ",".join(missing))
        return 1
    med = {c: statistics.median(v) for c, v in rows.items()}
    added = {c: med[c] - med["untraced"] for c in COST_CONFIGS}
    out = ["status=PASS", "untraced_ns=%.0f" % med["untraced"]]
    for c in COST_CONFIGS[1:]:
        key = c.replace("-", "_")
        out.append("%s_added_ns=%+.0f" % (key, added[c]))
        if c != "floor":
            out.append("%s_x_floor=%s" % (key, "%.2f" % (added[c] / added["floor"])
                                          if added["floor"] > 0 else "n/a"))
    out.append("detail=rounds=%d" % min(len(v) for v in rows.values()))
    print(" ".join(out))
    return 0


def cmd_top(args):
    """Short listing of the biggest stacks of one cache, or of all (for FAIL diagnostics)."""
    try:
        doc = json.load(open(args.json, encoding="utf-8"))
        stacks = [s for s in doc.get("stacks", []) if isinstance(s, dict)]
    except (OSError, ValueError, AttributeError) as e:
        print("cannot read %s: %s" % (args.json, e))
        return 1
    mine = [s for s in stacks if args.cache is None or s.get("cache") == args.cache]
    mine.sort(key=lambda s: s.get("objects", 0) if isinstance(s.get("objects"), int) else 0,
              reverse=True)
    print("top %s stacks (%d of %d stacks are in this cache):" % (args.cache or "all", len(mine),
                                                                  len(stacks)))
    for s in mine[:args.n]:
        frames = [str(f) for f in s.get("frames", [])][:8]
        print("  %s objects=%s bytes=%s  %s" % (s.get("cache"), s.get("objects"), s.get("bytes"),
                                                " <- ".join(frames)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("mirror")
    p = sub.add_parser("mkinitramfs")
    p.add_argument("staging")
    p.add_argument("out")
    p = sub.add_parser("elfkind")
    p.add_argument("path")
    p = sub.add_parser("elfarch")
    p.add_argument("path")
    p = sub.add_parser("extract")
    p.add_argument("dir")
    p.add_argument("logs", nargs="+")
    p = sub.add_parser("check")
    p.add_argument("json")
    p.add_argument("--cache", default="kmalloc-2k")
    p.add_argument("--count", type=int, default=3000)
    p.add_argument("--tolerance", type=float, default=2.0, help="percent")
    p.add_argument("--func", default="netlink_sendmsg")
    p = sub.add_parser("kinds")
    p.add_argument("dir")
    p.add_argument("--kinds", default="kmalloc cg msg")
    p.add_argument("--count", type=int, default=3000)
    p.add_argument("--tolerance", type=float, default=2.0, help="percent")
    p = sub.add_parser("cost")
    p.add_argument("tsv")
    p = sub.add_parser("top")
    p.add_argument("json")
    p.add_argument("--cache", default=None, help="default: every cache")
    p.add_argument("-n", type=int, default=8)
    args = ap.parse_args()
    return {"mirror": cmd_mirror, "mkinitramfs": cmd_mkinitramfs,
            "elfkind": cmd_elfkind, "elfarch": cmd_elfarch, "extract": cmd_extract, "top": cmd_top, "check": cmd_check,
            "kinds": cmd_kinds, "cost": cmd_cost}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

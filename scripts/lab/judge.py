"""Pass/fail judgement on what guests reported (pure: no I/O, no qemu).

Every function takes recorded guest output (parsed JSON documents, slabinfo
text, console text, framed blocks) and returns a verdict dict with at least
``status`` (PASS/FAIL) and ``detail``; tests/test_judge.py runs them on
recorded output.
"""

import json
import re
import statistics

from . import frames

FRAME_RE = re.compile(
    r"^\s*([^\s+]+)(?:\+0x[0-9a-fA-F]+)?(?:/0x[0-9a-fA-F]+)?(?:\s+\[[^\]]+\])?\s*$")

# The function that calls the allocator for each holder kind
# (tests/support/holder.c): the first frame of its stacks. alloc_msg is
# load_msg's helper where it is not inlined.
KIND_FUNCS = {"kmalloc": "__alloc_skb", "cg": "pipe_resize_ring", "msg": "load_msg|alloc_msg"}
METHODS = ("kfunc", "slab", "derived")


def frame_function(frame):
    """'foo.isra.0+0x1a/0x40 [mod]' -> 'foo.isra.0'."""
    m = FRAME_RE.match(frame)
    return m.group(1) if m else frame.strip()


def _base(fn):
    return fn.split(".", 1)[0]  # foo.isra.0, foo.cold, foo.constprop.0


def snapshot_problem(doc):
    """None if DOC is a well-formed `slableak snapshot --format json`, else why not."""
    if not isinstance(doc, dict):
        return "schema:top-level-not-object"
    if doc.get("cache_method") not in METHODS:
        return "schema:cache_method=%r" % (doc.get("cache_method"),)
    stacks = doc.get("stacks")
    if not isinstance(stacks, list):
        return "schema:stacks-not-array"
    for i, s in enumerate(stacks):
        if not isinstance(s, dict):
            return "schema:stacks[%d]-not-object" % i
        for key, typ in (("cache", str), ("objects", int), ("bytes", int), ("frames", list)):
            if not isinstance(s.get(key), typ) or isinstance(s.get(key), bool):
                return "schema:stacks[%d].%s" % (i, key)
        if not all(isinstance(fr, str) for fr in s["frames"]):
            return "schema:stacks[%d].frames-not-strings" % i
    return None


def parse_snapshot(raw):
    """(doc, problem) from the bytes of slableak.json."""
    try:
        doc = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (ValueError, UnicodeDecodeError, AttributeError) as e:
        return None, "bad-json:%s" % type(e).__name__
    return doc, snapshot_problem(doc)


def _verdict(status, detail, **kw):
    kw.update(status=status, detail=str(detail).replace(" ", "_"))
    return kw


def named(doc, cache, count, tolerance, func):
    """The named scenario: COUNT objects (within TOLERANCE %) in CACHE under
    stacks that carry a frame matching FUNC (full match)."""
    res = {"method": (doc or {}).get("cache_method") or "-", "held": "-", "func": "-"}
    problem = snapshot_problem(doc)
    if problem:
        return _verdict("FAIL", problem, **res)
    func_re = re.compile(func)
    held = matching = best = total = 0
    found = []
    for s in doc["stacks"]:
        if s["cache"] != cache:
            continue
        total += s["objects"]
        hit = next((_base(fn) for fn in map(frame_function, s["frames"])
                    if func_re.fullmatch(fn) or func_re.fullmatch(_base(fn))), None)
        if hit:
            matching += 1
            held += s["objects"]
            best = max(best, s["objects"])
            if hit not in found:
                found.append(hit)
    res.update(held=held, func=",".join(found) or "-")
    extra = "stacks=%d,best_stack=%d,%s_total=%d" % (matching, best, cache, total)
    if not matching:
        return _verdict("FAIL", "no-%s-stack-with-frame~/%s/,%s" % (cache, func, extra), **res)
    if abs(held - count) > count * tolerance / 100.0:
        return _verdict("FAIL", "held-%d-not-within-%g%%-of-%d,%s" % (
            held, tolerance, count, extra), **res)
    return _verdict("PASS", extra, **res)


def slabinfo_2k(text):
    """{cache: active_objs} of the caches in the 2 KiB class (object size
    1025..2048: the class every holder kind allocates in)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if line.startswith(("#", "slabinfo")) or len(parts) < 4:
            continue
        if parts[1].isdigit() and parts[3].isdigit() and 1024 < int(parts[3]) <= 2048:
            out[parts[0]] = int(parts[1])
    return out


def kinds(doc, slabinfo, kind_list, count, tolerance):
    """The hold scenario: each kind counted within TOLERANCE % of COUNT in the
    cache that grew by that much in the guest's /proc/slabinfo while its holder
    started (SLABINFO: {'base': text, KIND: text}), under stacks whose first
    frame is the kind's allocating function; no object of that function filed
    in another cache."""
    res = {"method": (doc or {}).get("cache_method") or "-", "held": "-", "func": "-"}
    problem = snapshot_problem(doc)
    if problem:
        return _verdict("FAIL", problem, **res)
    selected = {c.get("name") for c in doc.get("caches", []) if isinstance(c, dict)}
    tol = count * tolerance / 100.0
    if "base" not in slabinfo:
        return _verdict("FAIL", "no-slabinfo.base", **res)
    prev = slabinfo_2k(slabinfo["base"])
    held_all, funcs, failures = [], [], []
    for kind in kind_list:
        if kind not in slabinfo:
            return _verdict("FAIL", "no-slabinfo.%s" % kind, **res)
        cur = slabinfo_2k(slabinfo[kind])
        if not cur:
            return _verdict("FAIL", "no-2k-cache-in-slabinfo.%s" % kind, **res)
        grown, growth = max(((c, cur[c] - prev.get(c, 0)) for c in cur), key=lambda x: x[1])
        prev = cur
        func_re = re.compile(KIND_FUNCS.get(kind, kind))
        per_cache, first = {}, set()
        for s in doc["stacks"]:
            fn = _base(frame_function(s["frames"][0])) if s["frames"] else ""
            if fn and func_re.fullmatch(fn):
                per_cache[s["cache"]] = per_cache.get(s["cache"], 0) + s["objects"]
                first.add(fn)
        held = per_cache.get(grown, 0)
        misfiled = sum(v for c, v in per_cache.items() if c != grown)
        held_all.append("%s:%s:%d/%d" % (kind, grown, held, growth))
        funcs.append(",".join(sorted(first)) or "-")
        if abs(growth - count) > tol:
            failures.append("%s-grew-%s-by-%d-not-%d" % (kind, grown, growth, count))
        elif grown not in selected:
            failures.append("%s-grew-%s-which-slableak-did-not-follow" % (kind, grown))
        elif abs(held - count) > tol:
            elsewhere = ",".join("%s:%d" % kv for kv in sorted(per_cache.items())
                                 if kv[0] != grown) or "0"
            failures.append("%s-held-%d-in-%s-not-within-%g%%-of-%d(first-frame~/%s/,elsewhere=%s)"
                            % (kind, held, grown, tolerance, count, func_re.pattern, elsewhere))
        elif misfiled > tol:
            failures.append("%s-misfiled-%d-outside-%s" % (kind, misfiled, grown))
    res.update(held=",".join(held_all), func=";".join(funcs))
    if failures:
        return _verdict("FAIL", ";".join(failures), **res)
    return _verdict("PASS", "kinds=%s" % "+".join(kind_list), **res)


def fingerprints(doc, floor):
    """(fp, failure) from a snapshot: fp is the share of tracked allocations whose
    stack came from a verified fingerprint (bpf/stack_cache.h), "0.663", or
    "off:<why>" where slableak reports them off (arm64: not proven there);
    failure names the shortfall when they are on and the share is below FLOOR."""
    state = (doc or {}).get("stack_fingerprints")
    tracer = (doc or {}).get("tracer")
    tracer = tracer if isinstance(tracer, dict) else {}
    if isinstance(state, str) and state != "on":
        return "off:" + state.split(":", 1)[-1].strip().replace(" ", "_"), None
    tracked, served = tracer.get("allocs_tracked"), tracer.get("stacks_from_cache")
    if not isinstance(tracked, int) or not isinstance(served, int) or tracked <= 0:
        return "?", "fingerprints-on-but-no-tracked-allocations"
    share = served / tracked
    if share < floor:
        return "%.3f" % share, "fingerprints-served-%d-of-%d-tracked(%.3f)-below-floor-%g(mismatches=%s)" % (
            served, tracked, share, floor, tracer.get("fingerprint_mismatches"))
    return "%.3f" % share, None


COST_CONFIGS = ("untraced", "floor", "exact", "exact-nocache")


def cost(tsv):
    """Medians of the guest's cost rounds ('CONFIG ROUND ns_per_op X ... cpu_ns_per_op Y'):
    per configuration the added churn CPU ns per op over untraced, and that as a
    multiple of the floor's."""
    if isinstance(tsv, bytes):
        tsv = tsv.decode("utf-8", errors="replace")
    rows = {}
    for line in (tsv or "").splitlines():
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
        return _verdict("FAIL", "no-rows-for:%s" % ",".join(missing))
    med = {c: statistics.median(v) for c, v in rows.items()}
    added = {c: med[c] - med["untraced"] for c in COST_CONFIGS}
    res = {"untraced_ns": "%.0f" % med["untraced"]}
    for c in COST_CONFIGS[1:]:
        key = c.replace("-", "_")
        res["%s_added_ns" % key] = "%+.0f" % added[c]
        if c != "floor":
            res["%s_x_floor" % key] = ("%.2f" % (added[c] / added["floor"])
                                       if added["floor"] > 0 else "n/a")
    return _verdict("PASS", "rounds=%d" % min(len(v) for v in rows.values()), **res)


def top(doc, cache=None, n=8):
    """Lines listing the biggest stacks of CACHE (or of all): FAIL diagnostics."""
    stacks = [s for s in (doc or {}).get("stacks", []) if isinstance(s, dict)]
    mine = [s for s in stacks if cache is None or s.get("cache") == cache]
    mine.sort(key=lambda s: s.get("objects") if isinstance(s.get("objects"), int) else 0,
              reverse=True)
    out = ["top %s stacks (%d of %d stacks are in this cache):" % (cache or "all", len(mine),
                                                                   len(stacks))]
    for s in mine[:n]:
        out.append("  %s objects=%s bytes=%s  %s" % (
            s.get("cache"), s.get("objects"), s.get("bytes"),
            " <- ".join(str(f) for f in s.get("frames", [])[:8])))
    return out


def _major_before_6(kver):
    m = re.match(r"(\d+)\.", kver or "")
    return bool(m) and int(m.group(1)) < 6


def matrix_run(p, console, data, qemu_rc, timed_out):
    """The verdict of one kernel-matrix boot from what it left behind.

    P: the run's parameters (scenario, method, kinds, count, tolerance, cache,
    func, timeout, attach_timeout); CONSOLE: the console text; DATA: the framed
    blocks {name: bytes}; QEMU_RC / TIMED_OUT: how qemu ended. Returns the
    MATRIX-RESULT fields and ``notes``: lines to print under a FAIL."""
    info = frames.said(console, "MATRIX-KERNEL")
    guest = frames.said(console, "MATRIX-GUEST")
    attached = frames.said(console, "MATRIX-SLABLEAK")
    kver = info.get("kernel") or "unknown"
    res = {"kernel": kver, "method": "-", "held": "-", "func": "-", "fp": "-",
           "btf": info.get("btf", "-"),
           "kfunc_sym": info.get("kfunc_sym", "-"), "boot": info.get("uptime", "?")}
    sl_state, sl_rc = guest.get("slableak", ""), guest.get("slableak_rc", "")
    stderr = data.get("slableak.stderr", b"").decode("utf-8", errors="replace")
    scen = p["scenario"]
    if scen == "named" and p["method"] == "derived" and _major_before_6(kver):
        # No cache pointer in kmem_cache_alloc before 6.0: the refusal is the result.
        lines = len([ln for ln in stderr.splitlines() if ln])
        if sl_state == "exited" and sl_rc == "2" and lines == 1 and "from Linux 6.0 on" in stderr:
            v = _verdict("PASS", "refused-in-one-line-exit-2", method="refused")
        else:
            v = _verdict("FAIL", "expected-one-line-refusal-exit-2:slableak=%s,rc=%s,lines=%d"
                         % (sl_state, sl_rc, lines))
    elif not guest:
        v = _verdict("FAIL", "timeout-after-%ss" % p["timeout"] if timed_out
                     else "no-guest-verdict(qemu-rc=%s)" % qemu_rc)
    elif guest.get("status") != "RAN":
        v = _verdict("FAIL", "guest:%s" % guest.get("detail", ""))
    elif scen == "cost":
        v = cost(data.get("cost.tsv", b""))
    else:
        doc, problem = parse_snapshot(data.get("slableak.json", b""))
        if problem and doc is None:
            v = _verdict("FAIL", problem)
        elif scen == "hold":
            slabs = {k[len("slabinfo."):]: t for k, t in data.items()
                     if k.startswith("slabinfo.") and k != "slabinfo.txt"}
            v = kinds(doc, slabs, p["kinds"], p["count"], p["tolerance"])
        else:
            v = named(doc, p["cache"], p["count"], p["tolerance"], p["func"])
        if doc is not None and scen in ("hold", "named"):
            v["fp"], short = fingerprints(doc, p.get("fp_floor", 0.0))
            if short:
                v["detail"] = short if v["status"] == "PASS" else v["detail"] + ";" + short
                v["status"] = "FAIL"
    res.update(v)
    try:
        res["load"] = "%.1f" % (float(attached["attached"]) - float(attached["started"]))
    except (KeyError, ValueError):
        res["load"] = "?"
    res["holder_ready"] = guest.get("ready", "-")
    res["slableak_done"] = guest.get("done", "-")
    notes = []
    if res["status"] != "PASS":
        if (sl_state and sl_state != "tracing") or sl_rc not in ("", "0", "-"):
            if sl_state == "exited":
                notes.append("slableak failed to load on kernel %s (exit %s); its stderr:"
                             % (kver, sl_rc))
            elif sl_state == "attach-timeout":
                notes.append("slableak did not attach within %ss on kernel %s; its stderr:"
                             % (p["attach_timeout"], kver))
            else:
                notes.append("slableak exited %s on kernel %s; its stderr:" % (sl_rc, kver))
            notes += ["| " + ln for ln in stderr.splitlines()[-200:]]
        elif data.get("slableak.json"):
            doc, _ = parse_snapshot(data["slableak.json"])
            notes += top(doc, None if scen == "hold" else p["cache"])
        elif not guest:
            notes.append("last console lines:")
            notes += ["| " + ln for ln in frames.clean(console)[-40:]]
        for h in frames.said(console, "MATRIX-HOLDER", first=False):
            notes.append("holder %s" % " ".join("%s=%s" % kv for kv in h.items()))
        for name in sorted(data):
            if name.startswith("holder.") and data[name].strip():
                lines = data[name].decode("utf-8", errors="replace").splitlines()
                lines = lines[:5] if name.endswith(".out") else lines[-20:]
                notes += ["%s | %s" % (name, ln) for ln in lines]
    res["notes"] = notes
    return res

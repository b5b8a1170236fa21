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


# holder large: a 20000-byte user key payload is kmalloc'ed with its 24-byte
# header (user_preparse), 20024 bytes: an order-3 block, 32 KiB with 4 KiB pages.
LARGE_BYTES_EACH = 32768


def _text(t):
    return t.decode("utf-8", errors="replace") if isinstance(t, bytes) else (t or "")


def large_kernel_bytes(slabinfo, meminfo, page_size=4096):
    """The kernel's own figure for kmalloc-large: /proc/meminfo Slab: (which
    counts large kmallocs' pages since 5.9) minus the pages of every
    /proc/slabinfo line (num_slabs * pagesperslab). None if either is missing."""
    slab = None
    for line in _text(meminfo).splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == "Slab:" and f[1].isdigit():
            slab = int(f[1]) * 1024
    pages, lines = 0, 0
    for line in _text(slabinfo).splitlines():
        f = line.split()
        if line.startswith(("#", "slabinfo")) or len(f) < 16 or f[12] != "slabdata":
            continue
        if f[5].isdigit() and f[14].isdigit():
            pages += int(f[5]) * int(f[14])
            lines += 1
    if slab is None or not lines:
        return None
    return slab - pages * page_size


def large(doc, slabinfo, meminfo, count, tolerance, func):
    """The large scenario: as named() for kmalloc-large, each object's bytes
    the 32 KiB the page allocator reserved, and the kernel's own figure
    (large_kernel_bytes) grown by COUNT such blocks within TOLERANCE % while
    the holder started (SLABINFO, MEMINFO: {'base': text, 'large': text})."""
    v = named(doc, "kmalloc-large", count, tolerance, func)
    if v["status"] != "PASS":
        return v
    func_re = re.compile(func)
    nbytes = sum(s["bytes"] for s in doc["stacks"] if s["cache"] == "kmalloc-large" and any(
        func_re.fullmatch(_base(frame_function(fr))) for fr in s["frames"]))
    # add_key copies each payload into a kvmalloc'ed buffer first and kvfrees
    # it: COUNT more large kmallocs, all freed. Held elsewhere means their
    # kfree events were not seen.
    other = sum(s["objects"] for s in doc["stacks"] if s["cache"] == "kmalloc-large") - v["held"]
    if other > count * tolerance / 100.0:
        return _verdict("FAIL", "%d-kmalloc-large-objects-held-outside-%s(frees-not-seen?)" % (other, func),
                        **{k: v[k] for k in ("method", "held", "func")})
    if nbytes != v["held"] * LARGE_BYTES_EACH:
        return _verdict("FAIL", "bytes-%d-not-%d-objects-x-%d" % (nbytes, v["held"], LARGE_BYTES_EACH),
                        **{k: v[k] for k in ("method", "held", "func")})
    before = large_kernel_bytes(slabinfo.get("base"), meminfo.get("base"))
    after = large_kernel_bytes(slabinfo.get("large"), meminfo.get("large"))
    if before is None or after is None:
        return _verdict("FAIL", "no-slabinfo-or-meminfo-for-the-kernel-figure",
                        **{k: v[k] for k in ("method", "held", "func")})
    want = count * LARGE_BYTES_EACH
    if abs((after - before) - want) > want * tolerance / 100.0:
        return _verdict("FAIL", "kernel-figure-grew-%d-not-within-%g%%-of-%d" % (after - before, tolerance, want),
                        **{k: v[k] for k in ("method", "held", "func")})
    v["detail"] += ",bytes=%d,kernel_grew=%d,held_elsewhere=%d" % (nbytes, after - before, other)
    return v


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
        elif scen == "books":
            v = books(doc, {k[len("traces.base."):]: t for k, t in data.items()
                            if k.startswith("traces.base.")},
                      {k[len("traces.end."):]: t for k, t in data.items()
                       if k.startswith("traces.end.")})
            kfence = frames.said(console, "MATRIX-BOOKS").get("kfence_sample_interval", "?")
            v["kfence"] = kfence
            if kfence not in ("0", "none"):
                v["detail"] = ("" if v["status"] == "PASS" else v["detail"] + ";") + \
                    "kfence-sample-interval-%s(its-objects-are-in-no-books)" % kfence
                v["status"] = "FAIL"
        elif scen == "hold":
            slabs = {k[len("slabinfo."):]: t for k, t in data.items()
                     if k.startswith("slabinfo.") and k != "slabinfo.txt"}
            v = kinds(doc, slabs, p["kinds"], p["count"], p["tolerance"])
        elif scen == "large":
            pick = lambda prefix: {k[len(prefix):]: t for k, t in data.items() if k.startswith(prefix)}
            v = large(doc, pick("slabinfo."), pick("meminfo."), p["count"], p["tolerance"], p["func"])
        else:
            v = named(doc, p["cache"], p["count"], p["tolerance"], p["func"])
        if doc is not None and scen in ("hold", "named", "books", "large"):
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
            notes += top(doc, None if scen in ("hold", "books") else p["cache"])
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


# The kernel's books (slub_debug=U). alloc_traces (5.14+) lists the live
# objects of a cache grouped by call site and allocation stack:
#    3000 __alloc_skb+0x89/0x1a0 age=3492/3815/4218 pid=339       (6.18)
#         __kmalloc_node_track_caller_noprof+0x46a/0x740  <- stackdepot: from
#         kmalloc_reserve+0x64/0x100                         inside the allocator
#         __alloc_skb+0x89/0x1a0       <- where slableak's stack begins
#         netlink_sendmsg+0x155/0x480
#         ...
# alloc_calls (5.10) has the count lines only. SLUB saves at most 16 frames.
BOOKS_LINE_RE = re.compile(r"^\s*(\d+)\s+(\S+)")
BOOKS_FRAMES_MAX = 16
# Frames inside the allocator on the kernel's side: slableak's own list
# (userspace/symbols/symbolizer.cpp is_allocator_frame) plus SLUB's debug path,
# which records the stack (set_track) on every debug allocation.
BOOKS_ALLOCATOR = ("bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_", "trace_kmalloc",
                   "trace_call_bpf", "perf_trace_", "__kmalloc", "kmalloc", "__do_kmalloc",
                   "kmem_cache_alloc", "__kmem_cache_alloc", "slab_alloc", "___slab_alloc",
                   "__slab_alloc", "kmalloc_trace", "__kvmalloc", "kvmalloc", "kmalloc_node",
                   "__kmalloc_node", "kmalloc_large", "bpf_get_stack",
                   "set_track", "alloc_debug_processing", "alloc_single_from", "stack_trace_save",
                   "alloc_from_pcs", "__pcs_")


def books_records(text):
    """[(count, call site function, (caller frames...) or None)] from alloc_traces
    or alloc_calls text; frames are function names without the allocator's
    own (None: alloc_calls, call sites only)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    out, cur = [], None
    for line in (text or "").splitlines():
        m = BOOKS_LINE_RE.match(line)
        if m and not line.startswith("        "):
            cur = [int(m.group(1)), _base(frame_function(m.group(2))), [], False]
            out.append(cur)
        elif cur is not None and line.strip():
            cur[3] = True
            cur[2].append(_base(frame_function(line.strip())))
    recs = []
    for count, site, raw, traced in out:
        if not traced:
            recs.append((count, site, None))
            continue
        i = 0
        while i < len(raw) and raw[i].startswith(BOOKS_ALLOCATOR):
            i += 1
        recs.append((count, site, tuple(raw[i:]) + (("...",) if len(raw) >= BOOKS_FRAMES_MAX else ())))
    return recs


def _books_key(funcs, keys, sites):
    """The kernel's entry for one of slableak's stacks (FUNCS: its function
    names): with stacks, the kernel stack that agrees frame by frame with the
    most frames (a stack SLUB cut at 16 frames ends in "..." and agrees with
    any longer one); with call sites only, the first of slableak's two
    innermost frames that the kernel lists as a call site (the second: a
    *_track_caller allocation, where SLUB records the caller's caller)."""
    best = None
    for k in keys:
        body = k[:-1] if k and k[-1] == "..." else k
        n = len(body)
        ok = funcs[:n] == body if k and k[-1] == "..." else funcs == body
        if ok and n and (best is None or n > len(best)):
            best = k
    if best is None and sites:
        best = next(((f,) for f in funcs[:2] if f in sites), None)
    return best


def books(doc, base, end, tol_pct=1.0, tol_abs=2):
    """slableak's held objects per stack against the kernel's books.

    BASE/END: {cache: alloc_traces or alloc_calls text} read once slableak was
    attached and again after its report. For each kernel stack, the objects
    allocated after slableak attached and still live are between END - BASE
    and END (what was live at attach can only have shrunk): slableak's count
    under that stack must lie in that range, give or take TOL_PCT % of END or
    TOL_ABS objects. Fails on a stack slableak holds that the kernel does not
    list, and on a kernel stack slableak does not hold with more than the
    tolerance allocated after attach."""
    res = {"method": (doc or {}).get("cache_method") or "-", "stacks": 0, "worst": "-",
           "books": "-", "slot": "-"}
    problem = snapshot_problem(doc)
    if problem:
        return _verdict("FAIL", problem, **res)
    held = {}
    slots = {}
    for s in doc["stacks"]:
        held.setdefault(s["cache"], []).append(s)
        if s["objects"]:
            slots[s["cache"]] = s["bytes"] // s["objects"]
    failures, compared, worst, kinds_of_books = [], 0, None, set()
    for cache in sorted(set(held) | set(end)):
        if cache not in end:
            failures.append("no-kernel-books-for-%s(%d-stacks-held)" % (cache, len(held[cache])))
            continue
        recs_end, recs_base = books_records(end[cache]), books_records(base.get(cache, ""))
        traced = any(r[2] is not None for r in recs_end)
        kinds_of_books.add("traces" if traced else "calls")
        key_of = (lambda r: r[2]) if traced else (lambda r: (r[1],))
        kend, kbase = {}, {}
        for r in recs_end:
            kend[key_of(r)] = kend.get(key_of(r), 0) + r[0]
        for r in recs_base:
            kbase[key_of(r)] = kbase.get(key_of(r), 0) + r[0]
        sites = None if traced else {k[0] for k in kend}
        mine = {}
        for s in held.get(cache, []):
            funcs = tuple(_base(frame_function(f)) for f in s["frames"])
            k = _books_key(funcs, kend, sites)
            if k is None:
                failures.append("%s-held-%d-under-a-stack-the-kernel-does-not-list:%s" % (
                    cache, s["objects"], "<-".join(funcs[:6]) or "no-frames"))
                continue
            mine[k] = mine.get(k, 0) + s["objects"]
        for k in sorted(set(kend) | set(mine)):
            ke, kb, got = kend.get(k, 0), kbase.get(k, 0), mine.get(k, 0)
            lo, tol = max(0, ke - kb), max(tol_abs, ke * tol_pct / 100.0)
            off = lo - got if got < lo else max(0, got - ke)
            where = "%s:%s" % (cache, "<-".join(k[:4]))
            if got:
                compared += 1
                rel = off / ke if ke else 1.0
                if worst is None or (off, rel) > worst[:2]:
                    worst = (off, rel, where)
            if off > tol:
                failures.append("%s-slableak-%d-kernel-%d(at-attach-%d)" % (where, got, ke, kb))
    res.update(stacks=compared, books="+".join(sorted(kinds_of_books)) or "-",
               worst="%d(%.2f%%)@%s" % (worst[0], worst[1] * 100, worst[2]) if compared else "-",
               slot=",".join("%s:%d" % kv for kv in sorted(slots.items())) or "-")
    if not compared:
        failures.append("no-stack-compared")
    if failures:
        return _verdict("FAIL", ";".join(failures), **res)
    return _verdict("PASS", "stacks=%d" % compared, **res)

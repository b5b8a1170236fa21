"""Pass/fail of the exporter soak (pure: no I/O, no processes).

``sample(text)`` reads one sample's slableak figures out of a written textfile;
the soak (soak.py) adds the exporter's RSS, open fds and CPU time from /proc.
``judge(rows, exporter_exit, limits)`` takes every sample (dicts with the
``COLUMNS`` keys, in time order) and returns one check per quantity: what should
stay flat is compared as drift = median of the last quarter of the samples minus
the median of the first quarter, against a tolerance; the held leak must stay at
its size in every sample; the stack store must see stacks go through it."""

import re
import statistics
from dataclasses import dataclass, field

COLUMNS = ("t", "rss_kb", "fds", "cpu_s", "live", "aggregates", "stacks", "held", "write_errors",
           "stack_stored", "stack_retired", "stack_store_full")
# The held leak: holder kmalloc N sends netlink messages into kmalloc-2k.
HELD_CACHE = "kmalloc-2k"
HELD_FRAME = "netlink_sendmsg"
# Fewer samples than this are too few to judge a drift on.
MIN_SAMPLES = 8


def _limit(default, what):
    return field(default=default, metadata={"help": what})


@dataclass(frozen=True)
class Limits:
    """What the soak did and what it tolerates; soak.py makes each an option."""
    held: int = _limit(5000, "objects held: holder kmalloc N")
    sample_every: int = _limit(1, "export --sample-every (1: exact counts)")
    max_stacks: int = _limit(32, "export --max-stacks (small: turnover must free slots)")
    held_tol_pct: float = _limit(1, "held count: quarter medians and every sample within this (x --sample-every)")
    held_noise_pct: float = _limit(0, "share of samples allowed above that band (on a shared machine)")
    rss_tol_kb: float = _limit(1024, "RSS drift allowed, KiB ...")
    rss_tol_pct: float = _limit(3, "... or this share of the first quarter, if larger")
    map_tol: float = _limit(200, "live/aggregate map entries drift allowed ...")
    map_tol_pct: float = _limit(5, "... or this share, if larger")
    turnover: bool = True  # stacks turned over: the store must see them through


@dataclass(frozen=True)
class Check:
    name: str
    first: float   # median of the first quarter (or first value)
    last: float    # median of the last quarter (or last value)
    drift: float
    lo: float
    hi: float
    limit: str
    ok: bool


def _value(text, family, label=None):
    for line in text.splitlines():
        if line.startswith(family + "{") or line.startswith(family + " "):
            if label is None or label in line:
                return float(line.rsplit(" ", 1)[1])
    return float("nan")


def sample(text):
    """slableak's figures in one textfile TEXT: {column: value} for COLUMNS[4:]."""
    # The held leak: every stack of HELD_CACHE whose frames pass through HELD_FRAME.
    ids = set(re.findall(r'slableak_stack_info\{[^}]*stack_id="([0-9a-f]+)"[^}]*' + HELD_FRAME, text))
    held = 0.0
    pat = re.compile(r'slableak_stack_outstanding_objects\{cache="%s",stack_id="([0-9a-f]+)"\} (\S+)'
                     % re.escape(HELD_CACHE))
    for line in text.splitlines():
        m = pat.match(line)
        if m and m.group(1) in ids:
            held += float(m.group(2))
    return {"live": _value(text, "slableak_tracer_map_entries", 'map="live"'),
            "aggregates": _value(text, "slableak_tracer_map_entries", 'map="aggregates"'),
            "stacks": _value(text, "slableak_tracer_map_entries", 'map="stacks"'),
            "held": held,
            "write_errors": _value(text, "slableak_textfile_write_errors_total"),
            "stack_stored": _value(text, "slableak_tracer_events_total", 'event="stack_stored"'),
            "stack_retired": _value(text, "slableak_tracer_events_total", 'event="stack_retired"'),
            "stack_store_full": _value(text, "slableak_tracer_dropped_total", 'reason="stack_store_full"')}


def held_tolerance(lim):
    """How far the held count may be from lim.held, in objects."""
    return max(1.0, lim.held * lim.held_tol_pct / 100) * max(1, lim.sample_every)


def judge(rows, exporter_exit, lim=Limits()):
    """[Check] for ROWS (see COLUMNS) and the exporter's exit status; [] when
    there are fewer than MIN_SAMPLES rows (too few to judge: a failure)."""
    n = len(rows)
    if n < MIN_SAMPLES:
        return []
    q = max(1, n // 4)

    def col(k):
        return [float(r[k]) for r in rows]

    def drift(k):
        v = col(k)
        a, b = statistics.median(v[:q]), statistics.median(v[-q:])
        return a, b, b - a, min(v), max(v)

    checks = []
    a, b, d, lo, hi = drift("rss_kb")
    limit = max(lim.rss_tol_kb, a * lim.rss_tol_pct / 100)
    checks.append(Check("RSS (KiB)", a, b, d, lo, hi, "<= %.0f" % limit, d <= limit))
    a, b, d, lo, hi = drift("fds")
    checks.append(Check("open fds", a, b, d, lo, hi, "<= 0", d <= 0))
    for k, name in (("live", "live map entries"), ("aggregates", "aggregate entries")):
        a, b, d, lo, hi = drift(k)
        limit = max(lim.map_tol, a * lim.map_tol_pct / 100)
        checks.append(Check(name, a, b, d, lo, hi, "<= %.0f" % limit, d <= limit))
    cap = lim.max_stacks
    a, b, d, lo, hi = drift("stacks")
    # Entries rise a little as epochs widen with run time (a stack retires two
    # epochs after its last use); flat means bounded, never at the cap.
    checks.append(Check("stack entries", a, b, d, lo, hi, "<= %.0f, max < %d" % (cap / 2, cap),
                        d <= cap / 2 and hi < cap))
    if lim.turnover:
        # Several times the store's size went through it (over the sampled
        # span), and no new stack found it full. 4 paths per 10 s push ~120
        # stacks through in CI's 300 s: over twice the store; 600 s, about four times.
        span = float(rows[-1]["t"]) - float(rows[0]["t"])
        want = 2 * cap if span < 450 else 3 * cap
        for k, name, limit, ok in (("stack_stored", "stacks stored", ">= %d" % want, lambda g: g >= want),
                                   ("stack_retired", "stacks retired", ">= %d" % cap, lambda g: g >= cap),
                                   ("stack_store_full", "store-full drops", "== 0", lambda g: g == 0)):
            v = col(k)
            checks.append(Check(name, v[0], v[-1], v[-1] - v[0], min(v), max(v), limit, ok(v[-1] - v[0])))
    held_tol = held_tolerance(lim)
    a, b, d, lo, hi = drift("held")
    above = held_above(rows, lim)
    # A sample below the band is never tolerated: nothing else makes the count smaller.
    ok = (abs(a - lim.held) <= held_tol and abs(b - lim.held) <= held_tol and lo >= lim.held - held_tol
          and above <= n * lim.held_noise_pct / 100)
    checks.append(Check("held objects", a, b, d, lo, hi, "%d±%.0f" % (lim.held, held_tol), ok))
    a, b, d, lo, hi = drift("write_errors")
    checks.append(Check("write errors", a, b, d, lo, hi, "== 0", hi == 0))
    checks.append(Check("exporter exit", float("nan"), exporter_exit, float("nan"), float("nan"),
                        float("nan"), "== 0", exporter_exit == 0))
    return checks


def held_above(rows, lim=Limits()):
    """How many samples counted more held objects than the band allows."""
    return sum(1 for r in rows if float(r["held"]) > lim.held + held_tolerance(lim))


def report(rows, checks, ops, seconds, lim=Limits()):
    """The summary the soak prints: lines of text, the last one the verdict."""
    n = len(rows)
    if not checks:
        return ["soak: only %d samples: too few to judge (raise --seconds)" % n, "soak: FAILED: samples"]
    q = max(1, n // 4)
    cpu = [float(r["cpu_s"]) for r in rows]
    span = float(rows[-1]["t"]) - float(rows[0]["t"])
    used = cpu[-1] - cpu[0]
    out = ["", "soak: %d samples over %.0f s (first/last quarter: %d samples each); churn %d ops (%.0f/s); "
           "exporter CPU %.1f s (%.2f%% of one core)" % (n, span, q, ops, ops / max(1, seconds), used,
                                                        100 * used / max(1, span)),
           "%-18s %10s %10s %9s %9s %9s  %-14s result" % ("metric", "first q", "last q", "drift", "min", "max",
                                                         "limit")]
    for c in checks:
        if c.name == "exporter exit":
            out.append("%-18s %10s %10d %9s %9s %9s  %-14s %s" % (c.name, "", c.last, "", "", "", c.limit,
                                                                 "ok" if c.ok else "FAIL"))
        else:
            out.append("%-18s %10.0f %10.0f %+9.0f %9.0f %9.0f  %-14s %s" % (
                c.name, c.first, c.last, c.drift, c.lo, c.hi, c.limit, "ok" if c.ok else "FAIL"))
    above = held_above(rows, lim)
    if above:
        out.append("note: %d of %d samples counted more than %.0f held objects: something else on the host "
                   "allocated under %s meanwhile (allowed: %g%% = %d)"
                   % (above, n, lim.held + held_tolerance(lim), HELD_FRAME, lim.held_noise_pct, int(n * lim.held_noise_pct / 100)))
    failed = [c.name for c in checks if not c.ok]
    out.append("soak: FAILED: " + ", ".join(failed) if failed else "soak: passed")
    return out

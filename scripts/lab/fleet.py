"""The fleet phase (issue 24): the host's own Prometheus (Debian's, with the
project's rules) scrapes the exporters of several running guests through
loopback port forwards while each guest's holder leaks through the same kernel
path; then every guest's /debug/pprof/slab is fetched, decoded and merged with
`go tool pprof`. Drives the guests over their control line (Guest(control=True);
the guest side is the fleet block of files/deploy/scenario.sh) and records what
it saw into {name: text}; judge_fleet.py decides.
"""

import gzip
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from . import judge_fleet
from .guest import LabError, free_ports

ALERT = "SlableakPathLeakingOnManyHosts"
GUEST_PORT = 9435


# The test's own cadence: the exporters collect every 2 s (scenario.conf), so
# a scrape every 5 s and a rule evaluation every 2 s see each step of the leak
# without the minutes a production cadence would add to the wait.
SCRAPE_S = 5
EVAL_S = 2


def prometheus_config(targets, rules):
    """TARGETS {guest name: host port} -> the host Prometheus' YAML. A scrape
    of an exporter in a TCG guest can take seconds: the timeout is the interval."""
    lines = ["global:", "  scrape_interval: %ds" % SCRAPE_S, "  scrape_timeout: %ds" % SCRAPE_S,
             "  evaluation_interval: %ds" % EVAL_S, "rule_files:", "  - %s" % rules, "scrape_configs:",
             "  - job_name: slableak", "    static_configs:"]
    for name, port in sorted(targets.items()):
        lines += ["      - targets: ['127.0.0.1:%d']" % port, "        labels:", "          guest: %s" % name]
    return "\n".join(lines) + "\n"


def _get(url, timeout=20):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def _query(base, promql, at=None):
    q = {"query": promql}
    if at is not None:
        q["time"] = "%.3f" % at
    try:
        return _get(base + "/api/v1/query?" + urllib.parse.urlencode(q)).decode()
    except OSError as e:
        return json.dumps({"status": "error", "error": str(e)})


def _result(text):
    try:
        j = json.loads(text)
    except ValueError:
        return []
    return j.get("data", {}).get("result", []) if j.get("status") == "success" else []


def go_pprof(*args):
    """`go tool pprof ARGS` (Debian's golang-go): (status, stdout)."""
    env = {"HOME": "/tmp", "GOCACHE": "/tmp/slableak-gocache", "PPROF_TMPDIR": "/tmp",
           "PATH": "/usr/bin:/bin"}
    p = subprocess.run(["go", "tool", "pprof", *args], capture_output=True, text=True, env=env)
    return p.returncode, p.stdout


def _collections(port):
    """slableak_last_update_timestamp_seconds of the exporter behind PORT, or None."""
    try:
        text = _get("http://127.0.0.1:%d/metrics" % port, 10).decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("slableak_last_update_timestamp_seconds "):
            return line.split()[1]
    return None


class Phase:
    """One fleet phase over running guests {name: (Running, host port)}."""

    def __init__(self, guests, rules_text, work, log):
        self.guests, self.work, self.log = guests, Path(work), log
        self.files = {}
        self.pending = {n: ["drip", "stop", "done"] for n in guests}
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "rules.yml").write_text(rules_text)
        self.prom = None

    def send(self, name, word):
        running, _ = self.guests[name]
        if self.pending[name] and self.pending[name][0] == word:
            self.pending[name].pop(0)
            running.send(word)

    def await_all(self, pattern, timeout):
        """Each guest's console match of PATTERN (None where it did not come)."""
        end = time.monotonic() + timeout
        return {n: r.wait_for(pattern, max(1, end - time.monotonic()))
                for n, (r, _) in self.guests.items()}

    def start_prometheus(self):
        if not shutil.which("prometheus"):
            raise LabError("prometheus is missing (scripts/setup.sh installs Debian's)")
        port, = free_ports(1)
        cfg = prometheus_config({n: p for n, (_, p) in self.guests.items()}, self.work / "rules.yml")
        (self.work / "prometheus.yml").write_text(cfg)
        self.files["host-prometheus.yml"] = cfg
        self.base = "http://127.0.0.1:%d" % port
        log = open(self.work / "prometheus.log", "wb")
        self.prom = subprocess.Popen(
            ["prometheus", "--config.file=%s" % (self.work / "prometheus.yml"),
             "--storage.tsdb.path=%s" % (self.work / "tsdb"), "--web.listen-address=127.0.0.1:%d" % port,
             "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        for _ in range(120):
            try:
                _get(self.base + "/-/ready", 2)
                return
            except OSError:
                time.sleep(0.5)
        raise LabError("the host's prometheus did not become ready (%s)" % (self.work / "prometheus.log"))

    def record(self, name, promql, at=None):
        self.files[name + ".json"] = _query(self.base, promql, at)
        return _result(self.files[name + ".json"])

    def run(self, timeout=600):
        t0 = time.monotonic()
        waiting = self.await_all(r"^LAB-GUEST fleet waiting", 1500)
        self.files["guests-waiting.txt"] = " ".join(n for n, m in waiting.items() if m)
        if not all(waiting.values()):
            self.log("fleet: not every guest reached the fleet phase: %s" % waiting)
            return self.files
        self.start_prometheus()
        self.log("fleet: host prometheus on %s; the guests drip" % self.base)
        for n in self.guests:
            self.send(n, "drip")
        self.await_all(r"^LAB-GUEST fleet dripping", 120)
        t_drip = time.monotonic()
        end = t_drip + timeout
        firing = []
        while time.monotonic() < end:
            firing = _result(_query(self.base, 'ALERTS{alertname="%s",alertstate="firing"}' % ALERT))
            if firing:
                break
            time.sleep(EVAL_S)
        self.files["seconds.txt"] = "drip_to_firing=%.0f\n" % (time.monotonic() - t_drip)
        self.log("fleet: %s %s after %.0f s of dripping" % (
            ALERT, "firing" if firing else "NOT firing", time.monotonic() - t_drip))
        # Every answer at one instant, a rule evaluation behind: the per-host
        # and the fleet-wide series of one evaluation.
        time.sleep(EVAL_S + 2)
        at = time.time() - (EVAL_S + 1)
        self.record("alerts-fleet", 'ALERTS{alertname="%s"}' % ALERT, at)
        self.record("hosts-affected", "slableak:stack_fn_hosts_affected", at)
        self.record("path-leaking", "slableak:stack_fn_leaking", at)
        self.record("path-bytes", "slableak:stack_fn_outstanding_bytes", at)
        self.record("path-bytes-fleet", "slableak:stack_fn_outstanding_bytes:fleet", at)
        self.record("stack-info", 'slableak_stack_info{cache="kmalloc-2k"}', at)
        self.record("build-info", "slableak_build_info", at)
        self.files["targets.json"] = _query(self.base, "up")
        for n in self.guests:
            self.send(n, "stop")
        held = self.await_all(r"^LAB-GUEST fleet held=(\d+)", 120)
        self.files["held.txt"] = "".join("%s %s\n" % (n, m.group(1) if m else "none")
                                         for n, m in held.items())
        self.profiles()
        self.files["seconds.txt"] += "phase=%.0f\n" % (time.monotonic() - t0)
        return self.files

    def profiles(self):
        """Each guest's /debug/pprof/slab after two collections of the held set,
        decoded by go tool pprof, then merged by it."""
        paths = []
        for n, (_, port) in sorted(self.guests.items()):
            seen, end = [_collections(port)], time.monotonic() + 60
            while len(set(seen)) < 3 and time.monotonic() < end:
                time.sleep(1)
                seen.append(_collections(port))
            f = self.work / ("%s.pb.gz" % n)
            try:
                f.write_bytes(_get("http://127.0.0.1:%d/debug/pprof/slab" % port))
            except OSError as e:
                self.files["pprof-%s.err" % n] = str(e)
                continue
            rc, out = go_pprof("-raw", str(f))
            self.files["pprof-%s.raw" % n] = "# go tool pprof -raw: exit %d\n%s" % (rc, out)
            paths.append(str(f))
            self.cost(n, port, f, out)
        if len(paths) == len(self.guests):
            rc, out = go_pprof("-raw", *paths)
            self.files["pprof-merged.raw"] = "# go tool pprof -raw: exit %d\n%s" % (rc, out)
            rc, out = go_pprof("-top", "-sample_index=inuse_space", *paths)
            self.files["pprof-merged.top"] = "# go tool pprof -top: exit %d\n%s" % (rc, out)

    def cost(self, name, port, profile, raw):
        """What the host costs its scraper and its backend, as served: the
        /metrics text (bytes, gzipped bytes, series) and the profile (gzipped
        bytes, samples), into cost.txt."""
        try:
            text = _get("http://127.0.0.1:%d/metrics" % port, 20)
        except OSError as e:
            text = b""
            self.log("fleet: %s /metrics: %s" % (name, e))
        series = sum(1 for line in text.decode("utf-8", "replace").splitlines() if line and not line.startswith("#"))
        try:
            samples = len(judge_fleet.parse_raw(raw)[1])
        except ValueError:
            samples = -1
        line = "%s metrics_bytes=%d metrics_gzip_bytes=%d series=%d profile_bytes=%d profile_samples=%d\n" % (
            name, len(text), len(gzip.compress(text)), series, profile.stat().st_size, samples)
        self.files["cost.txt"] = self.files.get("cost.txt", "") + line
        self.log("fleet: cost %s" % line.strip())

    def close(self):
        """Release every guest (the lines it still waits for) and stop Prometheus."""
        for n in self.guests:
            for word in list(self.pending[n]):
                try:
                    self.send(n, word)
                except OSError:
                    break
        if self.prom:
            self.prom.terminate()
            try:
                self.prom.wait(30)
            except subprocess.TimeoutExpired:
                self.prom.kill()
                self.prom.wait()

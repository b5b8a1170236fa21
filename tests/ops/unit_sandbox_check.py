#!/usr/bin/env python3
"""Would the unit's sandbox let slableak do what it did?

Replays an `strace -f -y` log of slableak against the sandbox that
slableak-exporter.service asks systemd for, and reports:
  - system calls outside SystemCallFilter= (allowed set given as a file),
  - successful file accesses to paths the unit makes inaccessible,
  - writes to paths the unit makes read-only,
  - W+X memory under MemoryDenyWriteExecute=, sockets outside
    RestrictAddressFamilies=.
The path rules mirror systemd's src/core/namespace.c tables (ProtectSystem=,
ProtectHome=, ProtectKernelTunables=, ProtectKernelModules=,
ProtectKernelLogs=, PrivateDevices=, PrivateTmp=, ProcSubset=,
ReadWritePaths=, ReadOnlyPaths=, InaccessiblePaths=). systemd is not needed.

usage: unit_sandbox_check.py UNIT STRACE_LOG ALLOWED_SYSCALLS BINARY TEXTFILE_DIR [CAPTURE_DIR]
TEXTFILE_DIR is where the traced run wrote its textfile; it stands for the
unit's /var/lib/prometheus/node-exporter. CAPTURE_DIR, where it wrote its
captures, stands for the unit's /var/lib/slableak/captures.
"""
import re
import sys

unit_path, log_path, allowed_path, binary, textfile_dir = sys.argv[1:6]
capture_dir = sys.argv[6] if len(sys.argv) > 6 else None
UNIT_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
UNIT_CAPTURE_DIR = "/var/lib/slableak/captures"

# --- the unit
single, multi = {}, {}
for line in open(unit_path):
    line = line.strip()
    if not line or line.startswith(("#", ";", "[")) or "=" not in line:
        continue
    k, v = line.split("=", 1)
    single[k] = v
    multi.setdefault(k, []).extend(v.split())

def yes(key):
    return single.get(key, "no").lower() in ("yes", "true", "1", "on")

def paths(key):
    return [p.lstrip("-+") for p in multi.get(key, [])]

rules = []  # (prefix, mode): mode in {"rw", "ro", "hidden"}; longest prefix wins
ps = single.get("ProtectSystem", "no").lower()
if ps == "strict":
    rules += [("/", "ro")] + [(p, "rw") for p in ("/proc", "/sys", "/dev", "/home", "/run/user", "/root")]
elif ps == "full":
    rules += [(p, "ro") for p in ("/usr", "/boot", "/efi", "/etc")]
elif ps in ("yes", "true"):
    rules += [(p, "ro") for p in ("/usr", "/boot", "/efi")]
ph = single.get("ProtectHome", "no").lower()
if ph in ("yes", "true", "tmpfs"):
    rules += [(p, "hidden") for p in ("/home", "/run/user", "/root")]
elif ph == "read-only":
    rules += [(p, "ro") for p in ("/home", "/run/user", "/root")]
if yes("PrivateTmp"):
    rules += [("/tmp", "rw"), ("/var/tmp", "rw")]
if yes("ProtectKernelTunables"):
    rules += [(p, "ro") for p in ("/proc/acpi", "/proc/apm", "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq",
                                  "/proc/latency_stats", "/proc/mtrr", "/proc/scsi", "/proc/sys", "/proc/sysrq-trigger",
                                  "/proc/timer_stats", "/sys")]
    rules += [("/proc/kallsyms", "hidden"), ("/proc/kcore", "hidden")]
if yes("ProtectKernelModules"):
    rules += [("/usr/lib/modules", "hidden"), ("/lib/modules", "hidden")]
if yes("ProtectKernelLogs"):
    rules += [("/proc/kmsg", "hidden"), ("/dev/kmsg", "hidden")]
if yes("ProtectControlGroups"):
    rules += [("/sys/fs/cgroup", "ro")]
rules += [(p, "rw") for p in paths("ReadWritePaths")]
rules += [("/var/lib/" + p, "rw") for p in paths("StateDirectory")]
rules += [(p, "ro") for p in paths("ReadOnlyPaths")]
rules += [(p, "hidden") for p in paths("InaccessiblePaths")]
private_dev_ok = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx",
                  "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/hugepages", "/dev/log", "/dev/stdin", "/dev/stdout",
                  "/dev/stderr", "/dev/fd", "/dev/core"}

def under(path, prefix):
    return prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/")

def mode_of(path):
    best, mode = -1, "rw"
    for prefix, m in rules:
        if under(path, prefix) and len(prefix) > best:
            best, mode = len(prefix), m
    if yes("PrivateDevices") and under(path, "/dev") and path != "/dev":
        if not any(under(path, ok) for ok in private_dev_ok):
            return "hidden"
    if single.get("ProcSubset", "all") == "pid" and under(path, "/proc") and path != "/proc":
        first = path.split("/")[2]
        if not (first.isdigit() or first in ("self", "thread-self")):
            return "hidden"
    return mode

# --- the trace
allowed = {l.strip() for l in open(allowed_path) if l.strip()}
call_re = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[\( ]")
fdpath = r"(?:AT_FDCWD|\d+)(?:<([^>]*)>)?"
problems, used, started = [], set(), False
for line in open(log_path, errors="replace"):
    m = call_re.match(line)
    if not m:
        continue
    name = m.group(1)
    if not started:  # ignore setpriv before it execs slableak
        if name == "execve" and f'"{binary}"' in line and line.rstrip().endswith("= 0"):
            started = True
        continue
    used.add(name)
    if " = -1 " in line:
        continue  # failed here too: the sandbox cannot make it worse
    if yes("MemoryDenyWriteExecute"):  # seccomp: no W+X mmap, no mprotect to X
        if (name == "mmap" and "PROT_WRITE" in line and "PROT_EXEC" in line) or \
           (name in ("mprotect", "pkey_mprotect") and "PROT_EXEC" in line):
            problems.append(f"{name} with PROT_EXEC: MemoryDenyWriteExecute=yes kills it")
    if name == "socket" and "RestrictAddressFamilies" in single:
        fam = re.search(r"socket\((AF_[A-Z0-9]+)", line)
        if fam and fam.group(1) not in multi["RestrictAddressFamilies"]:
            problems.append(f"socket({fam.group(1)}): not in RestrictAddressFamilies=")
    acc = []
    if name in ("openat", "open", "creat", "openat2"):
        mm = re.match(r"^\d+\s+\w+\(" + (fdpath + r", " if name != "open" and name != "creat" else "") + r'"([^"]*)", ([A-Z_|]+)', line)
        if mm:
            groups = mm.groups()
            base, rel, flags = (groups if len(groups) == 3 else (None,) + groups)
            ret = re.search(r"= \d+<([^>]*)>", line)
            p = ret.group(1) if ret else (rel if rel.startswith("/") else f"{base}/{rel}")
            write = any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")) or name == "creat"
            acc.append((p, write))
    elif name in ("unlinkat", "renameat", "renameat2", "mkdirat", "linkat", "symlinkat", "fchmodat", "fchownat"):
        for base, rel in re.findall(fdpath + r', "([^"]*)"', line):
            acc.append((rel if rel.startswith("/") else f"{base}/{rel}", True))
    elif name in ("newfstatat", "statx", "faccessat", "faccessat2", "readlinkat"):
        for base, rel in re.findall(fdpath + r', "([^"]+)"', line):
            acc.append((rel if rel.startswith("/") else f"{base}/{rel}", False))
    elif name in ("stat", "lstat", "access", "readlink", "unlink", "rename", "mkdir", "rmdir"):
        for rel in re.findall(r'"(/[^"]*)"', line):
            acc.append((rel, name in ("unlink", "rename", "mkdir", "rmdir")))
    for p, write in acc:
        if under(p, textfile_dir):
            p = UNIT_TEXTFILE_DIR + p[len(textfile_dir.rstrip("/")):]
        elif capture_dir and under(p, capture_dir):
            p = UNIT_CAPTURE_DIR + p[len(capture_dir.rstrip("/")):]
        mode = mode_of(p)
        if mode == "hidden":
            problems.append(f"{name} {p}: the unit makes it inaccessible")
        elif write and mode == "ro":
            problems.append(f"{name} {p} (write): the unit makes it read-only")

if not started:
    sys.exit(f"FAIL: no successful execve of {binary} in {log_path}")
denied = sorted(used - allowed)
for d in denied:
    problems.append(f"system call {d}: not allowed by SystemCallFilter=")
for p in sorted(set(problems)):
    print("FAIL:", p)
if problems:
    sys.exit(1)
print(f"ok: {len(used)} system calls and every file access fit the unit's sandbox")

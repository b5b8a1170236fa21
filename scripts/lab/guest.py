"""Boot guests under qemu (TCG) and collect what they said.

A ``Guest`` is data: which kernel, an initramfs or a root image, memory,
extra kernel parameters, loopback port forwards, extra disks, a time limit.
``boot(guests)`` starts them all at once, waits for every one (killing those
past their limit) and returns one ``Run`` each: the console text, the framed
blocks the guest emitted (frames.py), how qemu ended and how long it took.
"""

import dataclasses
import gzip
import os
import re
import shlex
import socket
import stat
import struct
import subprocess
import time
from pathlib import Path

from . import frames

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FILES = HERE / "files"


@dataclasses.dataclass(frozen=True)
class Arch:
    """Everything that differs between the guest architectures, once."""
    name: str
    qemu: str
    qemu_pkg: str
    machine: tuple
    console: str
    data_uart: bool  # a second UART carries the framed blocks (else the console does)
    cc: str
    static_build: str  # build directory of the static slableak
    cmake_cross: tuple
    elf_machine: int


ARCHES = {
    "amd64": Arch("amd64", "qemu-system-x86_64", "qemu-system-x86", ("-accel", "tcg", "-cpu", "max"),
                  "ttyS0", True, "gcc", "build-static", (), 62),
    # pauth-impdef=on: pointer authentication stays on (the kernel signs its return
    # addresses as on hardware) with QEMU's cheap IMPLEMENTATION DEFINED algorithm
    # instead of emulating QARMA5: 71.7 s instead of 128.4 s per boot on 6.18.
    # The virt machine has one PL011: data shares the console.
    "arm64": Arch("arm64", "qemu-system-aarch64", "qemu-system-arm",
                  ("-machine", "virt", "-cpu",
                   os.environ.get("SLABLEAK_MATRIX_CPU", "max,pauth-impdef=on"), "-accel", "tcg"),
                  "ttyAMA0", False, "aarch64-linux-gnu-gcc", "build-arm64-static",
                  ("-DCMAKE_TOOLCHAIN_FILE=%s" % (REPO / "cmake/toolchains/aarch64-linux-gnu.cmake"),),
                  183),
}


# The root partition of every image (image.py writes it): the kernel finds it
# without an initramfs, whatever name the disk gets.
ROOT_PARTUUID = "51ab1eaf-01"


class LabError(Exception):
    """A setup or usage problem: one line naming the fix, exit status 2."""


# ---------------------------------------------------------------- ELF files

def elf_info(path):
    """(arch, linkage): arch 'amd64'/'arm64'/'other-N' or 'not-elf';
    linkage 'static', 'dynamic' (has PT_INTERP) or 'not-elf'."""
    with open(path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF":
            return "not-elf", "not-elf"
        end = "<" if head[5] == 1 else ">"
        machine, = struct.unpack(end + "H", head[18:20])
        arch = next((a.name for a in ARCHES.values() if a.elf_machine == machine),
                    "other-%d" % machine)
        if head[4] == 2:
            phoff, = struct.unpack(end + "Q", head[32:40])
            phentsize, phnum = struct.unpack(end + "HH", head[54:58])
        else:
            phoff, = struct.unpack(end + "I", head[28:32])
            phentsize, phnum = struct.unpack(end + "HH", head[42:46])
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if struct.unpack(end + "I", f.read(4))[0] == 3:  # PT_INTERP
                return arch, "dynamic"
    return arch, "static"


# ---------------------------------------------------------------- initramfs

def _cpio(out, name, mode, data=b"", ino=0, nlink=1, rdev=(0, 0)):
    name_b = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0))
    out.write(hdr.encode() + name_b)
    out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
    out.write(data)
    out.write(b"\0" * ((4 - len(data) % 4) % 4))


def initramfs(path, arch, files, busybox):
    """Write a gzip'd cpio (newc) initramfs, owned by root (no root needed).

    FILES: {guest path: host Path or bytes}; '/init' is required. Binaries are
    checked to be static and of ARCH. busybox and files/lab.sh (the guest
    library: lab_emit, lab_say, lab_wait_ready, lab_poweroff) are added."""
    if "/init" not in files:
        raise LabError("an initramfs needs an /init")
    entries = {"/bin/busybox": Path(busybox), "/bin/sh": "->busybox",
               "/lab.sh": FILES / "lab.sh"}
    entries.update(files)
    for gpath, src in entries.items():
        if isinstance(src, Path):
            if not src.is_file():
                raise LabError("%s not found: '%s'" % (Path(gpath).name, src))
            a, kind = elf_info(src)
            if a not in (arch.name, "not-elf"):
                raise LabError("%s is built for %s, the guest is %s (give an %s binary)"
                               % (src, a, arch.name, arch.name))
            if kind == "dynamic":
                raise LabError("%s is dynamically linked; guests need static binaries" % src)
    dirs = {"dev", "proc", "sys", "tmp", "run", "bin", "sbin", "usr", "usr/bin", "usr/sbin"}
    for gpath in entries:
        parts = gpath.strip("/").split("/")[:-1]
        dirs.update("/".join(parts[:i + 1]) for i in range(len(parts)))
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6,
                                               mtime=0) as out:
        ino = 1
        for d in sorted(dirs):
            _cpio(out, d, stat.S_IFDIR | 0o755, ino=ino, nlink=2)
            ino += 1
        _cpio(out, "dev/console", stat.S_IFCHR | 0o600, ino=ino, rdev=(5, 1))
        for gpath, src in sorted(entries.items()):
            ino += 1
            name = gpath.strip("/")
            if isinstance(src, str) and src.startswith("->"):
                _cpio(out, name, stat.S_IFLNK | 0o777, src[2:].encode(), ino=ino)
            else:
                data = src if isinstance(src, bytes) else Path(src).read_bytes()
                mode = 0o755 if isinstance(src, Path) or gpath == "/init" else 0o644
                _cpio(out, name, stat.S_IFREG | mode, data, ino=ino)
        _cpio(out, "TRAILER!!!", 0)
    os.replace(tmp, path)
    return Path(path)


def shell_conf(values):
    """{NAME: value} -> a file of NAME='value' lines for a guest script to source."""
    return "".join("%s=%s\n" % (k, shlex.quote(str(v))) for k, v in values.items()).encode()


# ---------------------------------------------------------------- guests

@dataclasses.dataclass
class Disk:
    """A raw file as an NVMe namespace: namespace ids 2, 3, ... in order (the
    root image is 1). Find it in the guest by /sys/block/nvme0nX/nsid, not by
    name: 6.12 scans namespaces in parallel and names them in the order they
    come (nvme0n1 was the payload in one boot of three)."""
    path: Path
    readonly: bool = False


@dataclasses.dataclass
class Guest:
    name: str
    kernel: Path                 # vmlinuz (debian.kernel(...).vmlinuz)
    out: Path                    # console.log, data.log, qemu.stderr and blocks go here
    arch: Arch = ARCHES["amd64"]
    initrd: Path = None          # an initramfs (initramfs()) ...
    image: Path = None           # ... or a root image (image.py), booted snapshot=on (nsid 1)
    memory_mib: int = 1024
    cpus: int = 1
    cmdline: tuple = ()          # extra kernel parameters, e.g. ("slub_debug=U,kmalloc-2k",)
    forwards: dict = dataclasses.field(default_factory=dict)  # {host port: guest port}, 127.0.0.1
    disks: tuple = ()            # Disk(...) after the root image
    timeout: int = 300           # seconds of wall clock, then qemu is killed
    icount: bool = False         # guest time counts instructions (cost figures)
    nice: bool = False
    keep_root: bool = False      # boot a private copy of image (out/root.img), kept after the run
    control: bool = False        # a third UART (/dev/ttyS2) the host writes lines to: Running.send()

    def root(self):
        """The root image this guest boots and writes: its own copy with keep_root."""
        return self.out / "root.img" if self.keep_root else self.image

    def argv(self):
        a = self.arch
        append = ["console=" + a.console, "panic=-1", "quiet"]
        if self.image:
            append += ["root=PARTUUID=" + ROOT_PARTUUID, "rootfstype=ext4", "rootwait", "rw"]
        append += list(self.cmdline)
        # Several vCPUs share one TCG thread. With a thread per vCPU, a 6.12
        # guest once died at boot with "Oops: int3" in sched_clock_cpu, the
        # trace of the kernel patching code (a static key) with int3 that the
        # other vCPU still ran: one thread runs each vCPU's code as patched.
        machine = [("tcg,thread=single" if m == "tcg" and self.cpus > 1 else m) for m in a.machine]
        argv = ["nice"] if self.nice else []
        argv += [a.qemu, *machine, "-m", str(self.memory_mib), "-smp", str(self.cpus),
                 "-nographic", "-no-reboot", "-kernel", str(self.kernel),
                 "-append", " ".join(append), "-serial", "mon:stdio"]
        if self.icount:
            argv += ["-icount", "shift=0,sleep=off"]
        if self.initrd:
            argv += ["-initrd", str(self.initrd)]
        if a.data_uart:
            argv += ["-chardev", "file,id=labdata,path=%s" % _qarg(self.out / "data.log"),
                     "-serial", "chardev:labdata"]
        if self.control:
            argv += ["-chardev", "socket,id=labctl,server=on,wait=off,path=%s"
                     % _qarg(self.out / "control.sock"), "-serial", "chardev:labctl"]
        disks = ([Disk(self.root())] if self.image else []) + list(self.disks)
        if disks:
            argv += ["-device", "nvme,id=nvme0,serial=slableak-lab"]
        for i, d in enumerate(disks):
            snap = ",snapshot=on" if self.image and i == 0 and not self.keep_root else ""
            ro = ",readonly=on" if d.readonly else ""
            argv += ["-drive", "if=none,id=d%d,format=raw%s%s,file=%s" % (i, snap, ro, _qarg(d.path)),
                     "-device", "nvme-ns,drive=d%d,bus=nvme0,nsid=%d" % (i, i + 1)]
        if self.forwards:
            fwd = "".join(",hostfwd=tcp:127.0.0.1:%d-:%d" % hg for hg in sorted(self.forwards.items()))
            argv += ["-nic", "user,model=virtio-net-pci,restrict=on" + fwd]
        else:
            argv += ["-nic", "none"]
        return argv


def free_ports(n):
    """N distinct free TCP ports on 127.0.0.1 (bound, read, released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _qarg(p):
    return str(p).replace(",", ",,")


@dataclasses.dataclass
class Run:
    guest: Guest
    console: str
    blocks: dict
    returncode: int
    seconds: float
    timed_out: bool


class Running:
    """A started guest: read its console while it runs, send it lines, wait for it."""

    def __init__(self, g, log=None):
        self.guest = g
        g.out.mkdir(parents=True, exist_ok=True)
        (g.out / "data.log").write_bytes(b"")
        for f in ("control.sock",):
            (g.out / f).unlink(missing_ok=True)
        if g.keep_root:
            # A sparse private copy: the cached image stays untouched, the host
            # reads this one after the guest stopped (image.read_root).
            subprocess.run(["cp", "--sparse=always", "--reflink=auto", str(g.image),
                            str(g.out / "root.img")], check=True)
        if log:
            log("%s: booting (%d MiB, timeout %ds)" % (g.name, g.memory_mib, g.timeout))
        self.t0 = time.monotonic()
        with open(g.out / "console.log", "wb") as con, open(g.out / "qemu.stderr", "wb") as err:
            self.proc = subprocess.Popen(g.argv(), stdin=subprocess.DEVNULL, stdout=con,
                                         stderr=err, start_new_session=True)
        self._ctl = None
        self.ended = None  # monotonic time qemu was seen gone (wait())

    def console(self):
        return (self.guest.out / "console.log").read_bytes().decode("ascii", errors="replace")

    def wait_for(self, pattern, timeout):
        """Poll the console until the regex PATTERN appears: its match, or None
        once TIMEOUT seconds passed or the guest stopped."""
        end = time.monotonic() + timeout
        rx = re.compile(pattern, re.M)
        while True:
            m = rx.search(self.console())
            if m or self.proc.poll() is not None or time.monotonic() > end:
                return m
            time.sleep(0.5)

    def send(self, line):
        """One line to the guest's /dev/ttyS2 (Guest(control=True))."""
        if self._ctl is None:
            self._ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._ctl.connect(str(self.guest.out / "control.sock"))
        self._ctl.sendall(line.encode() + b"\n")

    def wait(self):
        g, p = self.guest, self.proc
        timed_out = False
        try:
            rc = p.wait(timeout=max(1, g.timeout - (time.monotonic() - self.t0)))
        except subprocess.TimeoutExpired:
            timed_out = True
            p.kill()
            rc = p.wait()
        secs = (self.ended or time.monotonic()) - self.t0
        if self._ctl:
            self._ctl.close()
        console = self.console().replace("\r", "")
        (g.out / "console.log").write_text(console)
        blocks = frames.blocks((g.out / "data.log").read_bytes(), console)
        for name, data in blocks.items():
            (g.out / name).write_bytes(data)
        return Run(g, console, blocks, rc, secs, timed_out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start(guests, log=None):
    """Start every guest at once; a Running each, in order."""
    running = []
    try:
        for g in guests:
            running.append(Running(g, log))
    except BaseException:
        for r in running:
            r.kill()
        raise
    return running


def wait(running):
    """Wait for every started guest (killing those past their limit): a Run each.
    Each Run's seconds end when its own qemu ended, not when the others did."""
    try:
        while True:
            now = time.monotonic()
            for r in running:
                if r.ended is None and r.proc.poll() is not None:
                    r.ended = now
            if all(r.ended or now - r.t0 >= r.guest.timeout for r in running):
                break
            time.sleep(0.2)
        return [r.wait() for r in running]
    finally:
        for r in running:
            r.kill()


def boot(guests, log=None):
    """Boot every guest at once; wait for all; return a Run per guest, in order.
    The blocks are also written to guest.out/<name>."""
    return wait(start(guests, log))

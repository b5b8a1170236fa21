"""Debian packages for guests: kernels per series and architecture, and single
files out of other packages (a static busybox), fetched once into a cache with a
PRIVATE apt configuration (own lists, cache, sources, status: the system's apt
state is untouched). The mirror comes from this machine's apt configuration;
no registry host is written in the repository.

Cache layout ($SLABLEAK_KERNEL_CACHE, default /var/cache/slableak-kernels):
  kernels/<package>_<version>/{vmlinuz,config,package.txt}
  kernels/<series>[-arm64].current   the directory name last resolved
  apt/<suite>[-arm64]/               private apt state
  busybox/<arch>/busybox             a foreign architecture's static busybox
"""

import contextlib
import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .guest import HERE, REPO, LabError, elf_info

KERNELS_LIST = HERE / "kernels.list"
KEYRING = os.environ.get("SLABLEAK_APT_KEYRING", "/usr/share/keyrings/debian-archive-keyring.gpg")


def cache_dir(env, default):
    d = Path(os.environ.get(env, default))
    if str(d.resolve()).startswith(str(REPO.resolve()) + "/"):
        raise LabError("%s (%s) must be outside the source tree" % (env, d))
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    if not os.access(d, os.W_OK):
        raise LabError("cache %s is not writable (set %s)" % (d, env))
    return d


def kernel_cache():
    return cache_dir("SLABLEAK_KERNEL_CACHE", "/var/cache/slableak-kernels")


@contextlib.contextmanager
def locked(path):
    """An exclusive flock on PATH for the duration of the block."""
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


# ---------------------------------------------------------------- mirror

def _deb822(text):
    stanza, key = {}, None
    for raw in text.splitlines() + [""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if stanza:
                yield stanza
            stanza, key = {}, None
        elif raw[0] in " \t" and key:
            stanza[key] += " " + raw.strip()
        elif ":" in raw:
            key, val = raw.split(":", 1)
            key = key.strip().lower()
            stanza[key] = val.strip()


def apt_entries(root="/etc/apt"):
    """(types, uris, suites) of every enabled entry of the apt configuration."""
    for path in sorted(glob.glob(root + "/sources.list.d/*.sources")):
        for st in _deb822(Path(path).read_text(errors="replace")):
            if st.get("enabled", "yes").lower() != "no":
                yield st.get("types", "").split(), st.get("uris", "").split(), \
                    st.get("suites", "").split()
    for path in [root + "/sources.list"] + sorted(glob.glob(root + "/sources.list.d/*.list")):
        try:
            lines = Path(path).read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            parts = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
            if len(parts) >= 3:
                yield [parts[0]], [parts[1]], [parts[2]]


def mirror(entries=None):
    """The first http(s) non-security 'deb' URI, the plain archive (/debian) first."""
    if os.environ.get("SLABLEAK_APT_MIRROR"):
        return os.environ["SLABLEAK_APT_MIRROR"]
    found = []
    for types, uris, suites in (apt_entries() if entries is None else entries):
        if "deb" not in types or any(s.endswith("-security") or "/" in s for s in suites):
            continue
        found += [u.rstrip("/") for u in uris
                  if re.match(r"^https?://", u) and not u.rstrip("/").endswith("-security")]
    found.sort(key=lambda u: 0 if u.endswith("/debian") else 1)
    if not found:
        raise LabError("no usable http(s) Debian mirror in /etc/apt; set SLABLEAK_APT_MIRROR")
    return found[0]


class Apt:
    """apt-get / apt-cache with a private state for one suite and architecture."""

    def __init__(self, cache, suite, arch, log):
        self.d = cache / "apt" / (suite + ("" if arch == "amd64" else "-" + arch))
        for sub in ("lists/partial", "cache/archives/partial", "sources.list.d",
                    "preferences.d", "state"):
            (self.d / sub).mkdir(parents=True, exist_ok=True)
        (self.d / "status").write_text("")
        m = mirror()
        (self.d / "sources.list").write_text(
            "deb [arch=%s signed-by=%s] %s %s main\n" % (arch, KEYRING, m, suite))
        d = self.d
        self.opts = []
        for k, v in (("Dir::State", d / "state"), ("Dir::State::Lists", d / "lists"),
                     ("Dir::State::status", d / "status"), ("Dir::Cache", d / "cache"),
                     ("Dir::Cache::archives", d / "cache/archives"), ("Dir::Cache::pkgcache", ""),
                     ("Dir::Cache::srcpkgcache", ""), ("Dir::Etc::sourcelist", d / "sources.list"),
                     ("Dir::Etc::sourceparts", d / "sources.list.d"),
                     ("Dir::Etc::preferences", d / "preferences"),
                     ("Dir::Etc::preferencesparts", d / "preferences.d"),
                     ("APT::Architecture", arch), ("Acquire::Languages", "none"),
                     ("APT::Sandbox::User", "root")):
            self.opts += ["-o", "%s=%s" % (k, v)]
        log("apt update of %s/%s (private state in %s; mirror %s)" % (suite, arch, d, m))
        self.run("apt-get", "update")

    def run(self, tool, *args, cwd=None):
        p = subprocess.run([tool, *self.opts, "-qq", *args], cwd=cwd, capture_output=True, text=True)
        if p.returncode:
            raise LabError("%s %s failed: %s" % (tool, " ".join(args), p.stderr.strip()[-300:]))
        return p.stdout

    def download(self, pkg, into):
        """Download PKG into INTO and unpack it into INTO/x; return the .deb."""
        self.run("apt-get", "download", pkg, cwd=into)
        deb = sorted(Path(into).glob("*.deb"))[-1]
        subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(into) / "x")], check=True)
        return deb


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- kernels

def series_suite(series, listing=None):
    """'6.1' -> ('bookworm', None); 'SERIES@SUITE' picks a suite; REGEX optional."""
    if "@" in series:
        return series.split("@", 1)[1], None
    text = listing if listing is not None else KERNELS_LIST.read_text()
    for line in text.splitlines():
        f = line.split()
        if f and not f[0].startswith("#") and f[0] == series:
            return f[1], (f[2] if len(f) > 2 else None)
    raise LabError("kernel series '%s' is not in %s (use SERIES@SUITE or add a line)"
                   % (series, KERNELS_LIST))


class Kernel:
    def __init__(self, d, arch="amd64"):
        self.dir = Path(d)
        self.arch = arch
        self.vmlinuz = self.dir / "vmlinuz"
        self.package = dict(line.split("=", 1) for line in
                            (self.dir / "package.txt").read_text().splitlines() if "=" in line)

    def modules(self, names=("virtio_pci", "virtio_net"), log=print):
        """The kernel modules NAMES and what they depend on, decompressed, in load
        order (builtin ones left out): {guest path: Path} for an initramfs.
        The cloud kernels build virtio-net as a module; the package is fetched
        again (the version in the cache) the first time a set of names is asked
        for; each set other than the default is cached in a directory of its own."""
        default = tuple(names) == ("virtio_pci", "virtio_net")
        mdir = self.dir / ("modules" if default else "modules-" + "+".join(sorted(names)))
        if not (mdir / "release").is_file():
            with locked(kernel_cache() / ".lock"), tempfile.TemporaryDirectory(
                    dir=kernel_cache()) as work:
                p = self.package
                log("%s: fetching its modules" % p["package"])
                apt = Apt(kernel_cache(), p["suite"], self.arch, log)
                try:
                    apt.download("%s=%s" % (p["package"], p["version"]), work)
                except LabError as e:
                    raise LabError("%s (the cached kernel is gone from the mirror: --refresh)" % e)
                _extract_modules(Path(work) / "x", names, mdir)
        order = (mdir / "order").read_text().split()
        return {"/lib/modules/lab/%02d-%s" % (i, n): mdir / n for i, n in enumerate(order)}

    def release(self, log=print):
        """The kernel's `uname -r` (read from its package's /lib/modules)."""
        self.modules(log=log)
        return (self.dir / "modules/release").read_text().strip()

    def __str__(self):
        return "%s %s" % (self.package.get("package", "?"), self.package.get("version", "?"))


def kernel(series, arch="amd64", refresh=False, log=print):
    """The cached kernel of SERIES for ARCH, fetched and cached on first use."""
    spec, series = series, series.split("@")[0]
    if not re.fullmatch(r"\d+\.\d+", series):
        raise LabError("bad kernel series '%s' (want e.g. 6.1)" % series)
    suite, regex = series_suite(spec)
    cache = kernel_cache()
    kdirs = cache / "kernels"
    kdirs.mkdir(exist_ok=True)
    cur = kdirs / ("%s%s.current" % (series, "" if arch == "amd64" else "-" + arch))
    with locked(cache / ".lock"):
        if not refresh and cur.is_file() and (kdirs / cur.read_text().strip() / "vmlinuz").is_file():
            return Kernel(kdirs / cur.read_text().strip(), arch)
        apt = Apt(cache, suite, arch, log)
        regex = regex or r"^linux-image-%s\.[0-9][^ ]*-cloud-%s$" % (re.escape(series), arch)
        names = [n for n in apt.run("apt-cache", "pkgnames", "linux-image-").split()
                 if re.match(regex, n)]
        if not names:
            raise LabError("no package matching /%s/ in %s" % (regex, suite))
        pkg = max(names, key=_version_key)
        show = apt.run("apt-cache", "show", "--no-all-versions", pkg)
        ver = re.search(r"^Version: (\S+)", show, re.M).group(1)
        kdir = kdirs / ("%s_%s" % (pkg, ver.replace(":", "%3a")))
        if not (kdir / "vmlinuz").is_file():
            log("%s: downloading %s %s from %s" % (series, pkg, ver, suite))
            with tempfile.TemporaryDirectory(dir=cache) as work:
                deb = apt.download("%s=%s" % (pkg, ver), work)
                info = ["package=" + pkg, "version=" + ver, "suite=" + suite,
                        "deb=" + deb.name, "sha256=" + _sha256(deb)]
                if not glob.glob(work + "/x/boot/vmlinuz-*"):
                    # Since 6.19 the binary is in linux-binary-<abi>, a dependency.
                    dep = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"],
                                         capture_output=True, text=True).stdout
                    m = re.search(r"linux-binary-[^ ,(]+", dep)
                    if not m:
                        raise LabError("%s has no boot/vmlinuz-* and no linux-binary-*" % pkg)
                    (Path(work) / "bin").mkdir()
                    bdeb = apt.download(m.group(0), Path(work) / "bin")
                    shutil.copytree(Path(work) / "bin/x", Path(work) / "x", dirs_exist_ok=True)
                    info.append("binary_package=" + m.group(0))
                new = Path(str(kdir) + ".new")
                shutil.rmtree(new, ignore_errors=True)
                new.mkdir()
                shutil.copy(glob.glob(work + "/x/boot/vmlinuz-*")[0], new / "vmlinuz")
                for c in glob.glob(work + "/x/boot/config-*")[:1]:
                    shutil.copy(c, new / "config")
                (new / "package.txt").write_text("\n".join(info) + "\n")
                shutil.rmtree(kdir, ignore_errors=True)
                new.rename(kdir)
        cur.write_text(kdir.name + "\n")
        return Kernel(kdir, arch)


def _modinfo_depends(ko):
    """The `depends=` of a module's .modinfo (the .deb ships no modules.dep:
    depmod writes it when the package is installed)."""
    i = ko.find(b"\0depends=")
    if i < 0:
        return []
    return [d for d in ko[i + 9:ko.index(b"\0", i + 1)].decode().split(",") if d]


def _extract_modules(root, names, mdir):
    import lzma
    mods = root / "lib/modules" if (root / "lib/modules").is_dir() else root / "usr/lib/modules"
    base = next(mods.iterdir())
    by_name = {re.sub(r"\.ko(\..*)?$", "", p.name).replace("-", "_"): p for p in base.rglob("*.ko*")}
    order, data = [], {}

    def load(n):
        raw = by_name[n].read_bytes()
        if by_name[n].name.endswith(".xz"):
            raw = lzma.decompress(raw)
        elif not by_name[n].name.endswith(".ko"):
            raise LabError("cannot decompress module %s (xz or plain only)" % by_name[n])
        return raw

    def visit(n):
        if n in data:
            return
        data[n] = load(n)
        for d in _modinfo_depends(data[n]):
            visit(d.replace("-", "_"))
        order.append(n)
    for n in names:
        if n in by_name:  # else builtin
            visit(n)
    new = Path(str(mdir) + ".new")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    for n in order:
        (new / (n + ".ko")).write_bytes(data[n])
    (new / "order").write_text("".join(n + ".ko\n" for n in order))
    (new / "release").write_text(base.name + "\n")
    shutil.rmtree(mdir, ignore_errors=True)
    new.rename(mdir)


def _version_key(name):
    return [int(x) if x.isdigit() else x for x in re.findall(r"\d+|[^\d]+", name)]


def busybox(arch, refresh=False, log=print):
    """A static busybox for ARCH guests: the host's (amd64) or busybox-static of
    ARCH from bookworm, fetched once (never installed on the host)."""
    if arch == "amd64":
        for b in ("/bin/busybox", "/usr/bin/busybox"):
            if os.access(b, os.X_OK) and elf_info(b) == ("amd64", "static"):
                return Path(b)
        raise LabError("no static busybox on this host (apt-get install busybox-static)")
    cache = kernel_cache()
    d = cache / "busybox" / arch
    with locked(cache / ".lock"):
        if refresh or not (d / "busybox").is_file():
            apt = Apt(cache, "bookworm", arch, log)
            with tempfile.TemporaryDirectory(dir=cache) as work:
                deb = apt.download("busybox-static", work)
                if elf_info(Path(work) / "x/bin/busybox")[0] != arch:
                    raise LabError("busybox-static from bookworm is not a %s binary" % arch)
                d.mkdir(parents=True, exist_ok=True)
                shutil.copy(Path(work) / "x/bin/busybox", d / "busybox.new")
                os.replace(d / "busybox.new", d / "busybox")
                (d / "package.txt").write_text("deb=%s sha256=%s\n" % (deb.name, _sha256(deb)))
    return d / "busybox"

#!/usr/bin/env bash
# Packaging end to end, in scratch directories only:
#   1. cpack -G DEB from the build tree; dpkg-deb -I (control fields) and
#      -c (file list); maintainer scripts parse;
#   2. dpkg -x into a scratch root: the installed slableak --version runs,
#      the unit's ExecStart= is /usr/sbin/slableak, the man page renders;
#   3. cmake --install into a scratch prefix: same files, ExecStart= follows
#      the prefix.
#   package_test.sh BUILD_DIR VERSION
set -euo pipefail
build=$(cd "$1" && pwd) version=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in cpack dpkg-deb dpkg; do command -v $tool >/dev/null || fail "$tool is missing"; done
[ -f "$build/CPackConfig.cmake" ] || fail "$build/CPackConfig.cmake missing: is include(Packaging) in CMakeLists.txt?"

tmp=$(mktemp -d /tmp/slableak-package-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# --- 1. the .deb
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 || {
  cat "$tmp/cpack.log" >&2; fail "cpack -G DEB"; }
arch=$(dpkg --print-architecture)
deb="$tmp/out/slableak_${version}_${arch}.deb"
[ -f "$deb" ] || { ls -l "$tmp/out" >&2; fail "no $deb"; }
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

dpkg-deb -I "$deb" >"$tmp/info"
sed -n '/^ [A-Z][A-Za-z-]*:/p' "$tmp/info"
field() { sed -n "s/^ $1: //p" "$tmp/info"; }
[ "$(field Package)" = slableak ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), want $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ "$(field Section)" = admin ] || fail "Section: $(field Section)"
field Description | grep -q 'kernel stacks' || fail "Description"
# Depends: computed by dpkg-shlibdeps for a dynamic binary, none for a static one.
dpkg-deb -x "$deb" "$tmp/root"
bin="$tmp/root/usr/sbin/slableak"
[ -x "$bin" ] || fail "no /usr/sbin/slableak in the package"
if ldd "$bin" >/dev/null 2>&1; then
  depends=$(field Depends)
  for lib in libbpf1 libc6; do  # dpkg-shlibdeps drops libelf1/zlib1g: libbpf1 pulls them
    grep -q "$lib" <<<"$depends" || fail "dynamic binary, but Depends ($depends) lacks $lib"
  done
else
  [ -z "$(field Depends)" ] || fail "static binary, yet Depends: $(field Depends)"
fi
grep -q '^ *[0-9]* bytes, *[0-9]* lines *\* *postinst' "$tmp/info" || fail "no executable postinst"
dpkg-deb -e "$deb" "$tmp/control"
for s in postinst prerm postrm; do
  [ -x "$tmp/control/$s" ] || fail "$s not executable"
  sh -n "$tmp/control/$s" || fail "$s does not parse"
done

dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's#^\./#/#' >"$tmp/files"
for f in /usr/sbin/slableak /usr/lib/systemd/system/slableak-exporter.service /usr/share/man/man8/slableak.8.gz \
         /usr/share/bash-completion/completions/slableak /usr/share/slableak/grafana/slableak.json \
         /usr/share/slableak/grafana/slableak-fleet.json \
         /usr/share/slableak/prometheus/slableak-rules.yml /usr/share/doc/slableak/operations.md \
         /usr/share/doc/slableak/runbook.md; do
  grep -qxF "$f" "$tmp/files" || fail "$f not in the package"
done
if grep -vE '^/(usr/(sbin|lib/systemd/system|share/(man|bash-completion|slableak|doc))(/|$)|usr/?$|usr/lib/?$|usr/lib/systemd/?$|usr/share/?$|$)' "$tmp/files"; then
  fail "unexpected files in the package (above)"
fi

# --- 2. the unpacked package works
out=$("$bin" --version) || fail "installed slableak --version failed"
[ "$out" = "slableak $version" ] || fail "installed slableak --version: '$out'"
echo "ok: dpkg -x root: $out"
unit="$tmp/root/usr/lib/systemd/system/slableak-exporter.service"
# shellcheck disable=SC2016 # the unit's literal text, not an expansion
grep -qx 'ExecStart=/usr/sbin/slableak export --capture-dir /var/lib/slableak/captures $SLABLEAK_OPTS' "$unit" || fail "unit ExecStart: $(grep ExecStart= "$unit")"
gzip -t "$tmp/root/usr/share/man/man8/slableak.8.gz" || fail "man page is not gzip"
zcat "$tmp/root/usr/share/man/man8/slableak.8.gz" | groff -man -Tutf8 2>/dev/null | grep -q 'slableak' || fail "man page does not render"
bash -n "$tmp/root/usr/share/bash-completion/completions/slableak" || fail "completion does not parse"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/root/usr/share/slableak/grafana/slableak.json" ||
  fail "dashboard JSON"

# --- 3. cmake --install into a scratch prefix
prefix="$tmp/prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "cmake --install"; }
out=$("$prefix/sbin/slableak" --version) || fail "cmake --install: slableak --version failed"
[ "$out" = "slableak $version" ] || fail "cmake --install: --version '$out'"
grep -qx "ExecStart=$prefix/sbin/slableak export --capture-dir /var/lib/slableak/captures \$SLABLEAK_OPTS" "$prefix/lib/systemd/system/slableak-exporter.service" ||
  fail "cmake --install: unit ExecStart does not follow the prefix"
for f in share/man/man8/slableak.8.gz share/bash-completion/completions/slableak share/slableak/grafana/slableak.json \
         share/slableak/prometheus/slableak-rules.yml share/doc/slableak/runbook.md; do
  [ -f "$prefix/$f" ] || fail "cmake --install: $f missing"
done
echo "ok: cmake --install --prefix $prefix: $out"
echo PASS

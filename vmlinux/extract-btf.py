#!/usr/bin/env python3
"""Copy the kernel's own BTF (the .BTF section, what /sys/kernel/btf/vmlinux
shows on the running kernel) out of a kernel image, without booting it.

Usage: extract-btf.py IMAGE OUT

IMAGE is an uncompressed arm64 Image, an ELF vmlinux, or either gzip'd. The
blob is found by its header (include/uapi/linux/btf.h): magic 0xeB9F, version
1, hdr_len 24, the type section first and the string section right after it,
whose first byte is NUL. Exactly one such blob must be in the image, or
nothing is written. Standard library only.
"""
import gzip
import struct
import sys

MAGIC_LE = b"\x9f\xeb\x01"  # magic 0xeB9F little-endian, then version 1


def candidates(img):
    start = 0
    while True:
        i = img.find(MAGIC_LE, start)
        if i < 0:
            return
        start = i + 1
        if len(img) < i + 24:
            return
        _magic, _ver, flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(
            "<HBBIIIII", img, i)
        if flags != 0 or hdr_len != 24 or type_off != 0 or str_off != type_len:
            continue
        if type_len == 0 or str_len == 0:
            continue
        end = i + hdr_len + str_off + str_len
        if end > len(img) or img[i + hdr_len + str_off] != 0:
            continue
        yield i, end


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: extract-btf.py IMAGE OUT\n")
        return 2
    img = open(sys.argv[1], "rb").read()
    if img[:2] == b"\x1f\x8b":
        img = gzip.decompress(img)
    found = list(candidates(img))
    if len(found) != 1:
        sys.stderr.write("extract-btf: %d BTF blobs in %s, expected exactly one\n" %
                         (len(found), sys.argv[1]))
        return 1
    begin, end = found[0]
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(img[begin:end])
    import os
    os.replace(tmp, sys.argv[2])
    sys.stderr.write("extract-btf: %d bytes of BTF at offset 0x%x of %s\n" %
                     (end - begin, begin, sys.argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

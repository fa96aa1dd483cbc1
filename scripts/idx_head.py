#!/usr/bin/env python3
"""Writes the first N items of an IDX file (gzipped or not) as a gzipped IDX file with the count in its header
set to N: a smaller, valid slice of a real dataset (scripts/gpu-pack.sh packs Fashion-MNIST this way).

  python3 scripts/idx_head.py N IN.gz OUT.gz
"""
import gzip
import struct
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: idx_head.py N IN OUT")
    n, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{src}: not an unsigned-byte IDX file")
    dims = list(struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim]))
    if not 0 < n <= dims[0]:
        sys.exit(f"{src}: has {dims[0]} items, cannot take {n}")
    item = 1
    for d in dims[1:]:
        item *= d
    header = 4 + 4 * ndim
    dims[0] = n
    with gzip.open(dst, "wb") as f:
        f.write(data[:4] + struct.pack(f">{ndim}I", *dims) + data[header:header + n * item])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Make the large build context: gen_context.py DIR FILES MEGABYTES.

FILES files spread over directories of 500 (d0000/, d0001/, ...), sizes varying between
1 byte and twice the mean, MEGABYTES MiB in all. Each file is half random bytes and half
text, so it compresses to roughly half, like a source tree with some binaries. Seeded, so
every run builds the same tree.
"""
import os
import random
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    root, files, megabytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(6)
    total = megabytes << 20
    mean = max(1, total // files)
    pool = 8 << 20
    noise = rng.randbytes(pool)
    words = [b"build", b"layer", b"image", b"cache", b"stage", b"context", b"rbuild",
             b"snapshot", b"digest", b"manifest", b"\n", b"fn", b"let", b"=", b"{", b"}"]
    text = bytearray()
    while len(text) < pool:
        text += rng.choice(words) + b" "
    text = bytes(text)
    written = 0
    per_dir = 500
    for i in range(files):
        d = os.path.join(root, f"d{i // per_dir:04d}")
        if i % per_dir == 0:
            os.makedirs(d, exist_ok=True)
        remaining_files = files - i
        if remaining_files == 1:
            size = max(0, total - written)
        else:
            size = min(rng.randint(1, 2 * mean), max(0, total - written))
        half = size // 2
        a = rng.randrange(pool - half) if half < pool else 0
        b = rng.randrange(pool - (size - half)) if size - half < pool else 0
        with open(os.path.join(d, f"f{i:06d}.dat"), "wb") as f:
            f.write(noise[a:a + half])
            f.write(text[b:b + size - half])
        written += size
    print(f"{files} files, {written / (1 << 20):.0f} MiB in {root}")


if __name__ == "__main__":
    main()

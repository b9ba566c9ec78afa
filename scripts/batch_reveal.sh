#!/usr/bin/env bash
# Reveal the secret of every stego image in STEGO_DIR into OUT_DIR/<stem>/secret1.png.
#   scripts/batch_reveal.sh stego/ revealed/ [-n 2]
set -euo pipefail
WIN="${WIN:-win}"
[ $# -ge 2 ] || { echo "usage: $0 STEGO_DIR OUT_DIR [win reveal options]" >&2; exit 2; }
stegos="$1"; out="$2"; shift 2
for f in $(find "$stegos" -maxdepth 1 -type f -iname '*.png' | sort); do
    stem=$(basename "$f" .png)
    $WIN reveal "$f" -o "$out/$stem" "$@"
done

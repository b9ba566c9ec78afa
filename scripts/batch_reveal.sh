#!/usr/bin/env bash
# Reveal the secret of every stego image in STEGO_DIR into OUT_DIR/<stem>/secret1.png, in one
# process with one model load (`win reveal` over a folder).
#   scripts/batch_reveal.sh stego/ revealed/ [-n 2]
set -euo pipefail
WIN="${WIN:-win}"
[ $# -ge 2 ] || { echo "usage: $0 STEGO_DIR OUT_DIR [win reveal options]" >&2; exit 2; }
stegos="$1"; out="$2"; shift 2
$WIN reveal "$stegos" -o "$out" "$@"

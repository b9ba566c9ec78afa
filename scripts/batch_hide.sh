#!/usr/bin/env bash
# Hide every image of SECRETS_DIR in the image of COVERS_DIR with the same position in sorted
# order; stegos go to OUT_DIR/<cover stem>.png. Extra arguments go to `win hide` (e.g. --check).
#   scripts/batch_hide.sh covers/ secrets/ stego/ [--device cuda]
set -euo pipefail
WIN="${WIN:-win}"
[ $# -ge 3 ] || { echo "usage: $0 COVERS_DIR SECRETS_DIR OUT_DIR [win hide options]" >&2; exit 2; }
covers="$1"; secrets="$2"; out="$3"; shift 3
mkdir -p "$out"
mapfile -t C < <(find "$covers" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) | sort)
mapfile -t S < <(find "$secrets" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) | sort)
n=${#C[@]}; [ ${#S[@]} -lt "$n" ] && n=${#S[@]}
[ "$n" -gt 0 ] || { echo "no image pairs found" >&2; exit 2; }
for ((i = 0; i < n; i++)); do
    stem=$(basename "${C[$i]}"); stem="${stem%.*}"
    $WIN hide "${C[$i]}" "${S[$i]}" -o "$out/$stem.png" "$@"
done

#!/usr/bin/env bash
# Hide every image of SECRETS_DIR in the image of COVERS_DIR with the same position in sorted
# order; stegos go to OUT_DIR/<cover stem>.png. One process, one model load (`win hide` over
# folders; --pair name pairs by file name). Extra arguments go to `win hide` (e.g. --check).
#   scripts/batch_hide.sh covers/ secrets/ stego/ [--device cuda]
set -euo pipefail
WIN="${WIN:-win}"
[ $# -ge 3 ] || { echo "usage: $0 COVERS_DIR SECRETS_DIR OUT_DIR [win hide options]" >&2; exit 2; }
covers="$1"; secrets="$2"; out="$3"; shift 3
$WIN hide "$covers" "$secrets" -o "$out" "$@"

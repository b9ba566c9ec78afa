#!/usr/bin/env bash
# Downscale a folder of photos (x2 by default) into OUT_DIR, then optionally check the round
# trip by upscaling into OUT_DIR/restored.
#   scripts/batch_downscale.sh photos/ small/ [2|4] [--roundtrip]
set -euo pipefail
WIN="${WIN:-win}"
[ $# -ge 2 ] || { echo "usage: $0 IN_DIR OUT_DIR [SCALE] [--roundtrip]" >&2; exit 2; }
in="$1"; out="$2"; scale="${3:-2}"; roundtrip="${4:-}"
mkdir -p "$out"
$WIN downscale "$in" --scale "$scale" -o "$out" ${WIN_ARGS:-}
if [ "$roundtrip" = "--roundtrip" ]; then
    mkdir -p "$out/restored"
    $WIN upscale "$out"/*.png --scale "$scale" -o "$out/restored" ${WIN_ARGS:-}
fi

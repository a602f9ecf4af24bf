#!/usr/bin/env bash
# Regenerates every model fixture in model-import/fixtures (deterministic: same bytes as committed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=$(bash "$here/setup.sh")
out="$here/../fixtures"
"$py" "$here/digits.py" --out "$out"
"$py" "$here/reweight.py" --model "$out/digits_int8.onnx" --out "$out/digits_reweighted_int8.onnx" --seed 1 --inputs "$out/digits_test_x.npy"
for cfg in "0.35 96" "0.5 224" "0.75 192"; do
    set -- $cfg
    "$py" "$here/mobilenet_v2.py" --width "$1" --resolution "$2" --out "$out"
done
"$py" "$here/mobile_cnns.py" --out "$out"
"$py" "$here/mobile_cnns.py" --format qoperator --out "$out"
"$py" "$here/error_cases.py" --out "$out/errors"

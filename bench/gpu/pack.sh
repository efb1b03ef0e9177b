#!/usr/bin/env bash
# Packs what the GPU sweep's two machine calls carry (docs/gpu-session.md), into .gpu/ (ignored by git):
#   .gpu/call1/  the packages the device image lacks (wheels/: keras and its two missing needs,
#                imbalanced-learn, for Python 3.12, at the versions requirements.txt pins), the first half
#                of FER-2013 train/ and test/ as a tar.xz, and the whole archive's sha256;
#   .gpu/call2/  the second half. Each call stays under the device's 64 MiB working-tree limit (the
#                project itself is ~26 MB; the archive ~46 MB).
# Run here, once per session, from the project root: bash bench/gpu/pack.sh [../shared/datasets/fer2013]
# Then see docs/gpu-session.md for the two device calls.
set -euo pipefail
DATA=${1:-../shared/datasets/fer2013}
[ -d "$DATA/train" ] && [ -d "$DATA/test" ] || { echo "no FER-2013 folder with train/ and test/ at $DATA" >&2; exit 1; }
pin() { grep -i -E "^$1==" requirements.txt | sed 's/ *#.*//'; }
rm -rf .gpu && mkdir -p .gpu/call1/wheels .gpu/call2

python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .gpu/call1/wheels "$(pin keras)" "$(pin imbalanced-learn)" namex==0.1.0 optree==0.20.0

tar -C "$DATA" -cf - train test | xz -9 -T2 > .gpu/fer2013.tar.xz
sha256sum < .gpu/fer2013.tar.xz > .gpu/call1/fer2013.sha256
split -n 2 -d .gpu/fer2013.tar.xz .gpu/fer2013.tar.xz.
mv .gpu/fer2013.tar.xz.00 .gpu/call1/ && mv .gpu/fer2013.tar.xz.01 .gpu/call2/ && rm .gpu/fer2013.tar.xz
du -sh .gpu/call1 .gpu/call2 | sed 's/^/packed /'

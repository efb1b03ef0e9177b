#!/usr/bin/env bash
# Runs on the GPU machine for the recipe sweep (docs/gpu-session.md), from the project root:
#   bash bench/gpu/device.sh stage   install .gpu/call1's wheels, keep this call's half of the data, and
#                                    time training steps (images/s) on this GPU
#   bash bench/gpu/device.sh sweep   keep .gpu/call2's half, join and check the data, train every run of
#                                    bench/gpu/recipes.txt side by side, and put each finished run in $OUT
# Anything kept between the two calls lives in $STAGE, which lasts as long as the machine stays warm.
# Locally, a rehearsal on the CPU: STAGE=/tmp/stage OUT=/tmp/out PYTHON=/path/to/python bash bench/gpu/device.sh ...
set -uo pipefail
STAGE=${STAGE:-/root/fer-stage}
PYTHON=${PYTHON:-python3}
OUT=${OUT:?OUT must name the folder whose files come back}
BUDGET_S=${BUDGET_S:-420}  # a run still training after this is stopped (its curves come back, not its model)
MAX_EPOCHS=${MAX_EPOCHS:-300}
TRAIN_IMAGES=27274  # the training fold at --val-fraction 0.05
mkdir -p "$STAGE/parts" "$OUT"
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$STAGE/site${PYTHONPATH:+:$PYTHONPATH}"

keep_parts() {  # copy whichever call folder came with this call into $STAGE
    for folder in .gpu/call1 .gpu/call2; do
        [ -d "$folder" ] && cp -r "$folder"/. "$STAGE/parts/"
    done
    if [ -d "$STAGE/parts/wheels" ] && [ ! -d "$STAGE/site" ]; then
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$STAGE/site" \
            "$STAGE"/parts/wheels/*.whl || { echo "the wheels did not install" >&2; exit 1; }
    fi
    ls "$STAGE/parts"
}

join_data() {  # $STAGE/fer2013/{train,test} from the two halves, checked against the packed sha256
    [ -d "$STAGE/fer2013/train" ] && return 0
    for half in 00 01; do
        [ -f "$STAGE/parts/fer2013.tar.xz.$half" ] || {
            echo "half $half of the data is missing: the machine went back between the calls; run stage again" >&2
            exit 1; }
    done
    cat "$STAGE"/parts/fer2013.tar.xz.0? | sha256sum --quiet -c "$STAGE/parts/fer2013.sha256" \
        || { echo "the joined data does not match its sha256" >&2; exit 1; }
    mkdir -p "$STAGE/fer2013" && cat "$STAGE"/parts/fer2013.tar.xz.0? | xz -d | tar -C "$STAGE/fer2013" -x
    echo "data: $(find "$STAGE/fer2013/train" -type f | wc -l) train, $(find "$STAGE/fer2013/test" -type f | wc -l) test images"
}

stage() {
    keep_parts
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
    "$PYTHON" -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)" || exit 1
    "$PYTHON" bench/train_throughput.py --batches "${THROUGHPUT_BATCHES:-40}" --rounds 1 --only seed,vgg,vgg_wide,resnet 2>&1 \
        | tee "$OUT/throughput.txt"
    cp "$OUT/throughput.txt" "$STAGE/throughput.txt"
}

epochs_for() {  # epochs that fit the budget: this GPU's images/s for the arch (stage's throughput.txt),
    # shared evenly by the runs, less a minute and a half of start-up and 30% for validation and saving;
    # online distillation runs the teacher too, counted as a second step.
    local flags=$1 runs=$2 arch ips cost=1
    arch=$(sed -n 's/.*--arch \([a-z_]*\).*/\1/p' <<< "$flags"); arch=${arch:-vgg}
    ips=$(awk -F'|' -v a="$arch" '$2 == " " a " " {gsub(/ /, "", $3); print $3}' "$STAGE/throughput.txt")
    [[ "$flags" == *"--distillation online"* ]] && cost=2
    [ -n "$ips" ] || { echo "no images/s for $arch in $STAGE/throughput.txt: run stage first" >&2; exit 1; }
    awk -v b="$BUDGET_S" -v i="$ips" -v r="$runs" -v c="$cost" -v n="$TRAIN_IMAGES" -v m="$MAX_EPOCHS" \
        'BEGIN { e = int((b - 90) * 0.7 * i / r / c / n); print (e > m ? m : (e < 1 ? 1 : e)) }'
}

sweep() {
    keep_parts
    join_data
    local names=() runs
    runs=$(grep -c -v -E '^\s*(#|$)' bench/gpu/recipes.txt)
    while read -r name flags; do
        [[ -z "$name" || "$name" == \#* ]] && continue
        names+=("$name")
        flags=${flags//\$STAGE/$STAGE}  # a recipe may start from a carried model: --init-from $STAGE/parts/X.keras
        [[ "$flags" == *"--epochs"* ]] || flags="$flags --epochs $(epochs_for "$flags" "$runs")"
        echo "$name: $flags"
        # shellcheck disable=SC2086  # the flags are words on purpose
        timeout --signal=TERM --kill-after=60 "$BUDGET_S" "$PYTHON" -m core train "$STAGE/fer2013" \
            --run-dir "$STAGE/runs/$name" $flags > "$STAGE/$name.log" 2>&1 &
    done < bench/gpu/recipes.txt
    wait
    for name in "${names[@]}"; do
        local run="$STAGE/runs/$name"
        echo "== $name: $(tail -n 1 "$STAGE/$name.log")"
        cp "$STAGE/$name.log" "$run/train.log" 2>/dev/null
        tar -C "$STAGE/runs" -cf "$OUT/$name.tar" --exclude checkpoint.keras --exclude '.lock' --exclude '.running' "$name"
    done
    "$PYTHON" -m core runs "${names[@]/#/$STAGE/runs/}" 2>&1 | tee "$OUT/runs.txt"
}

case "${1:-}" in
    stage) stage ;;
    sweep) sweep ;;
    *) echo "usage: bash bench/gpu/device.sh stage|sweep" >&2; exit 2 ;;
esac

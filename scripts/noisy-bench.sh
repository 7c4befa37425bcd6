#!/bin/bash
# The noisy-label benchmark (docs/noisy.md): for ESC-10 and FSDD, a small curated set, noisy sets corrupted
# at 30 % and 50 % from a larger pool, a held-out test set never trained on; every method trained with the
# same small model and the same 3 folds, scored by lwlrap on the test set (mean ± std over folds).
# Results are written as each run finishes (<out>/<dataset>/<method>-<rate>/results.json); re-running the
# script skips finished runs and resumes an interrupted one. The table: npx tsx scripts/noisy-bench-table.ts <out>
# Usage: scripts/noisy-bench.sh [out=runs/noisy-bench] [datasets="esc10 fsdd"] [rates="30 50"] [methods=...]
set -u
cd "$(dirname "$0")/.."
OUT=${1:-runs/noisy-bench}
DATASETS=${2:-"esc10 fsdd"}
RATES=${3:-"30 50"}
METHODS=${4:-"curated union soft warmup weights mix distill"}
A=bin/audiotag
D=$OUT/data
mkdir -p "$OUT"
[ -f "$D/fsdd/test.csv" ] || npx tsx scripts/noisy-bench-data.ts "$D" 6 30
for d in $DATASETS; do
  for r in $RATES; do
    [ -f "$D/$d/noisy$r.csv" ] || $A dataset corrupt "$D/$d/pool.csv" --rate "0.$r" --seed "$r" --out "$D/$d/noisy$r.csv"
  done
done

# run NAME RECIPE DATASET RATE [flags...]: into $OUT/DATASET/NAME
run() {
  local name=$1 recipe=$2 d=$3 r=$4
  shift 4
  local out=$OUT/$d/$name
  [ -f "$out/results.json" ] && return 0
  echo "$(date -u +%H:%M:%S) start $d $name $r" >>"$OUT/progress.log"
  if $A pipeline "$recipe" --config "configs/noisy/$d-bench.yaml" --curated "$D/$d/curated.csv" \
    --noisy "$D/$d/noisy$r.csv" --test "$D/$d/test.csv" --out "$out" --quiet "$@" >>"$OUT/$d.log" 2>&1; then
    echo "$(date -u +%H:%M:%S) done  $d $name $r: $(tail -1 "$OUT/$d.log")" >>"$OUT/progress.log"
  else
    echo "$(date -u +%H:%M:%S) FAILED $d $name $r (see $OUT/$d.log)" >>"$OUT/progress.log"
  fi
}

for m in $METHODS; do
  for r in $RATES; do
    for d in $DATASETS; do
      case $m in
        curated) run curated curated "$d" "$r" ;; # the noisy set is not used: one run serves both rates
        union) run union-$r union "$d" "$r" ;;
        soft) run soft-$r union "$d" "$r" --overrides.all.labels.cooccurrence.weight 0.3 ;;
        weights) run weights-$r union "$d" "$r" --overrides.all.labels.weights '{column: set, values: {noisy: 0.3}}' ;;
        warmup) run warmup-$r warmup "$d" "$r" ;;
        mix) run mix-$r curated "$d" "$r" --mixNoisy.p 0.5 ;;
        distill) run distill-$r distill "$d" "$r" --distill.teacher "$OUT/$d/warmup-$r" --distill.alpha 0.5 --distill.temperature 2 ;;
      esac
    done
  done
done
echo "$(date -u +%H:%M:%S) all done" >>"$OUT/progress.log"

#!/usr/bin/env bash
# Analyse a cohort folder as a SLURM job array, then merge the shards and evaluate them in a job that
# starts only when every shard succeeded (--dependency=afterok).
#
#   scripts/slurm/submit.sh INPUT_FOLDER OUTPUT_FOLDER SHARDS [sbatch options for the analysis tasks ...]
#
# Environment (all optional):
#   LUNA               the ./luna to run (default: the one of this checkout; build it once first with ./luna help)
#   LUNA_ARGS          more analyze parameters, e.g. "device=gpu seg_model=/models/seg.state cls_model=/models/cls.state"
#   LUNA_ANNOTATIONS   annotations.csv: the merge job then runs ./luna evaluate (FROC) on the merged candidates
#   LUNA_EVALUATE_ARGS more evaluate parameters, e.g. "bootstrap=1000 excluded=/luna/annotations_excluded.csv"
#   LUNA_MERGE_SBATCH  sbatch options for the merge job (default: none; it needs no GPU)
#
# Prints the two job IDs. Task i of the array analyses shard=i/SHARDS into OUTPUT/shards/i, so shards never
# write the same files; a requeued or resubmitted task skips the scans it had finished.
set -euo pipefail
if [ $# -lt 3 ]; then
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
input="$(cd "$1" && pwd)"
mkdir -p "$2"
output="$(cd "$2" && pwd)"
shards="$3"
shift 3
case "$shards" in
	''|*[!0-9]*|0) echo "submit.sh: SHARDS must be a whole number >= 1, got '$shards'" >&2; exit 2 ;;
esac
export LUNA="${LUNA:-$(cd "$here/../.." && pwd)/luna}"
export LUNA_INPUT="$input" LUNA_OUTPUT="$output" LUNA_SHARDS="$shards"
export LUNA_ARGS="${LUNA_ARGS:-}" LUNA_ANNOTATIONS="${LUNA_ANNOTATIONS:-}" LUNA_EVALUATE_ARGS="${LUNA_EVALUATE_ARGS:-}"
mkdir -p "$output/logs"
array=$(sbatch --parsable --array="1-$shards" --output="$output/logs/analyze-%A_%a.log" "$@" "$here/analyze-array.sbatch")
array="${array%%;*}"
# shellcheck disable=SC2086
merge=$(sbatch --parsable --dependency="afterok:$array" --output="$output/logs/merge-%j.log" ${LUNA_MERGE_SBATCH:-} \
	"$here/merge-evaluate.sbatch")
merge="${merge%%;*}"
echo "$array $merge"

#!/usr/bin/env bash
# Trains the three demo models shipped in the jar (src/main/resources/org/lungnodules/models/demo-*.pt)
# from scratch on synthetic chest CTs, with the project's own commands, and evaluates them on held-out
# synthetic CTs generated with a different seed. Rerunnable: finished steps are skipped (delete WORK
# to start over); every random choice has a fixed seed.
#
#   scripts/train-demo-models.sh [WORK]        (default WORK: ./demo-training)
#
# Tunables via the environment (defaults are what the shipped weights were trained with):
#   TRAIN_CTS, HELD_CTS, CT_SIZE, NODULES, DIAMETERS, SEG_EPOCHS, SEG_EPOCH_SIZE, CLS_EPOCHS, CLS_EPOCH_SIZE, CLS_BATCH, MAL_EPOCHS,
#   MAL_EPOCH_SIZE, FINETUNE_DEPTH, INSTALL=0 (do not copy into the resources)
#
# The models are for the demo only: they have seen synthetic CTs, never a real scan.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
luna="$repo/luna"
work="$(mkdir -p "${1:-demo-training}" && cd "${1:-demo-training}" && pwd)"

TRAIN_CTS=${TRAIN_CTS:-48}        # training CTs, seed 101
HELD_CTS=${HELD_CTS:-6}           # held-out CTs, seed 202: the validation set of every run
CT_SIZE=${CT_SIZE:-64,256,256}    # z,y,x voxels at the demo's spacing 0.7,0.7,1.25 mm
NODULES=${NODULES:-2-5}
DIAMETERS=${DIAMETERS:-4-25}
# About 20 minutes on 2 CPU cores (classifier ~100, U-Net ~160 samples/s). The loop validates after epoch 1
# and every val_every-th; one long epoch validates once, at the end. Validating the classifier
# scores every held-out candidate (600 per CT), which takes minutes on a CPU.
SEG_EPOCHS=${SEG_EPOCHS:-9};  SEG_EPOCH_SIZE=${SEG_EPOCH_SIZE:-8000}
CLS_EPOCHS=${CLS_EPOCHS:-1};  CLS_EPOCH_SIZE=${CLS_EPOCH_SIZE:-40000}; CLS_BATCH=${CLS_BATCH:-32}; CLS_VAL_SAMPLES=${CLS_VAL_SAMPLES:-3000}
MAL_EPOCHS=${MAL_EPOCHS:-4};  MAL_EPOCH_SIZE=${MAL_EPOCH_SIZE:-500}
FINETUNE_DEPTH=${FINETUNE_DEPTH:-2}
INSTALL=${INSTALL:-1}

data="$work/data" cache="$work/cache" runs="$work/runs"
log() { echo "[$(date +%H:%M:%S)] $*"; }

# 1. Dataset: training CTs in subset0, held-out CTs (another seed) in subset9, one set of tables.
if [ ! -f "$data/.complete" ]; then
	log "Generating $TRAIN_CTS training + $HELD_CTS held-out synthetic CTs ($CT_SIZE)"
	rm -rf "$data" "$work/gen"
	common=(size="$CT_SIZE" spacing=0.7,0.7,1.25 nodules="$NODULES" diameters="$DIAMETERS" preview=false)
	"$luna" phantom output="$work/gen/train" seed=101 count="$TRAIN_CTS" "${common[@]}"
	"$luna" phantom output="$work/gen/held" seed=202 count="$HELD_CTS" "${common[@]}"
	mkdir -p "$data/subset0" "$data/subset9"
	mv "$work/gen/train/"*.mhd "$work/gen/train/"*.raw "$data/subset0/"
	mv "$work/gen/held/"*.mhd "$work/gen/held/"*.raw "$data/subset9/"
	for t in annotations.csv annotations_with_malignancy.csv candidates.csv; do
		{ cat "$work/gen/train/$t"; tail -n +2 "$work/gen/held/$t"; } >"$data/$t"
	done
	rm -rf "$work/gen"
	touch "$data/.complete"
fi

# 2. Crop every training chunk once (resumable), so the loops never re-read whole CTs.
log "Preparing the chunk cache"
"$luna" prepare-cache data="$data" cache="$cache" val_subsets=9

# Every run validates on the held-out CTs (subset9) and keeps best.pt by its recipe's metric.
train() {  # train KIND NAME key=value ...
	local cmd=$1 name=$2; shift 2
	if [ -f "$runs/$name/.complete" ]; then log "$name: done already"; return; fi
	local resume=false
	[ -f "$runs/$name/last.pt" ] && resume=true
	log "$cmd $name"
	"$luna" "$cmd" data="$data" cache="$cache" val_subsets=9 output="$runs" name="$name" seed=1 resume=$resume "$@"
	touch "$runs/$name/.complete"
}

# 3. U-Net (best.pt by pixel recall), 4. nodule classifier (best.pt by F1),
# 5. malignancy: the classifier fine-tuned (best.pt by ROC AUC, logged next to the diameter-only AUC).
train train-seg demo-seg epochs="$SEG_EPOCHS" epoch_size="$SEG_EPOCH_SIZE" batch_size=16
train train-cls demo-cls epochs="$CLS_EPOCHS" epoch_size="$CLS_EPOCH_SIZE" val_every="$CLS_EPOCHS" batch_size="$CLS_BATCH" val_samples="$CLS_VAL_SAMPLES"
train train-mal demo-mal epochs="$MAL_EPOCHS" epoch_size="$MAL_EPOCH_SIZE" batch_size=16 init="$runs/demo-cls/best.pt" finetune_depth="$FINETUNE_DEPTH"

# 6. The validation metrics of each run (held-out CTs), best epoch marked by the loop's log.
for k in seg cls mal; do
	log "demo-$k metrics.csv (validation = held-out CTs, seed 202):"
	cat "$runs/demo-$k/metrics.csv"
done

# 7. Keep only the weights and provenance (no optimizer state) and put them into the jar's resources.
# The U-Net ships its last epoch, not best.pt: the recipe picks best.pt by pixel recall, which an
# early epoch wins by marking nearly everything (recall 0.99 at precision 0.02); later epochs keep
# recall above 0.9 at a far better precision, which is what the grouping and classifier need.
mkdir -p "$work/models"
for k in seg cls mal; do
	src="$runs/demo-$k/best.pt"
	[ $k = seg ] && src="$runs/demo-$k/last.pt"
	"$luna" import-model input="$src" kind=$k output="$work/models/demo-$k.pt"
done
if [ "$INSTALL" = 1 ]; then
	dest="$repo/src/main/resources/org/lungnodules/models"
	mkdir -p "$dest"
	cp "$work/models/"demo-*.pt "$dest/"
	log "Installed into $dest"
fi

# 8. End to end on the held-out CTs: segmentation + grouping + classifier + malignancy, with the book's
# 3x4 table against every held-out nodule, and nodule-level recall of the segmentation + grouping for
# nodules >= 6 mm (FROC over all components: the highest sensitivity any threshold reaches).
eval="$work/eval"
mkdir -p "$eval"
held_uids="$(ls "$data/subset9" | sed -n 's/\.mhd$//p')"
{ head -n 1 "$data/annotations_with_malignancy.csv"; grep -F -f <(echo "$held_uids") "$data/annotations_with_malignancy.csv"; } >"$eval/held-annotations.csv"
awk -F, 'NR == 1 || $5 >= 6' "$eval/held-annotations.csv" | cut -d, -f1-5 >"$eval/held-annotations-6mm.csv"
if [ ! -f "$eval/analyze/.complete" ]; then
	"$luna" analyze input="$data/subset9" seg_model="$work/models/demo-seg.pt" cls_model="$work/models/demo-cls.pt" \
		mal_model="$work/models/demo-mal.pt" annotations="$eval/held-annotations.csv" output="$eval/analyze" device=cpu | tee "$eval/analyze.txt"
	touch "$eval/analyze/.complete"
fi
python3 "$repo/scripts/nodule-recall.py" "$eval/held-annotations.csv" "$eval/analyze" 6 | tee "$eval/nodule-recall.txt"
python3 "$repo/scripts/nodule-recall.py" "$eval/held-annotations.csv" "$eval/analyze" 0 | tee -a "$eval/nodule-recall.txt"
marks="$(ls "$eval/analyze/"*_candidates.csv | paste -sd, -)"
"$luna" evaluate results="$marks" annotations="$eval/held-annotations-6mm.csv" all_series=true bootstrap=0 output="$eval/froc-6mm"
cat "$eval/froc-6mm/report.txt"

# 9. The demo itself with only the demo weights (an empty models folder), on a CT of yet another seed.
home="$(mktemp -d)"
LUNG_NODULES_HOME="$home" "$luna" demo output="$work/demo-output" seed=2026
rm -rf "$home"

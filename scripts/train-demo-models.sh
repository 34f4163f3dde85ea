#!/usr/bin/env bash
# Trains the three demo models shipped in the jar (src/main/resources/org/lungnodules/models/demo-*.pt)
# from scratch on synthetic chest CTs, with the project's own commands, and evaluates them on held-out
# synthetic CTs generated with a different seed. Rerunnable: finished steps are skipped (delete WORK
# to start over); every random choice has a fixed seed.
#
#   scripts/train-demo-models.sh [WORK]        (default WORK: ./demo-training)
#
# Tunables via the environment (defaults are what the shipped weights were trained with):
#   TRAIN_CTS, HELD_CTS, MAL_TRAIN_CTS, MAL_HELD_CTS, CT_SIZE, NODULES, DIAMETERS, SEG_EPOCHS, SEG_EPOCH_SIZE, CLS_EPOCHS,
#   CLS_EPOCH_SIZE, CLS_BATCH, CLS_RATIO, CLS_RATIO_EPOCHS, CLS_RATIO_EPOCH_SIZE, CLS_ALL_EPOCHS, CLS_SLOW_EPOCHS,
#   CLS_PRIOR_RATIO, CLS_PRIOR_EPOCHS, SMALL_CTS, CLS_SMALL_EPOCH_SIZE, CLS_SMALL_CYCLES, MAL_EPOCHS, MAL_EPOCH_SIZE, MAL_LR,
#   MAL_MOMENTUM, FINETUNE_DEPTH, INSTALL=0 (do not copy into the resources)
#
# The models are for the demo only: they have seen synthetic CTs, never a real scan.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
luna="$repo/luna"
work="$(mkdir -p "${1:-demo-training}" && cd "${1:-demo-training}" && pwd)"

TRAIN_CTS=${TRAIN_CTS:-48}        # training CTs for the U-Net and the classifier, seed 101
HELD_CTS=${HELD_CTS:-6}           # held-out CTs, seed 202: their validation set (picks best.pt)
MAL_TRAIN_CTS=${MAL_TRAIN_CTS:-240}  # more nodules for the malignancy model (4-8 per CT), seed 111
MAL_HELD_CTS=${MAL_HELD_CTS:-30}     # its validation set, seed 212
CT_SIZE=${CT_SIZE:-64,256,256}    # z,y,x voxels at the demo's spacing 0.7,0.7,1.25 mm
NODULES=${NODULES:-2-5}
DIAMETERS=${DIAMETERS:-4-25}
# About 5 hours on 2 CPU cores (classifier ~60, U-Net ~160 samples/s when alone). The loop validates after
# epoch 1 and every val_every-th; validating the classifier scores every held-out candidate (600 per CT).
SEG_EPOCHS=${SEG_EPOCHS:-20};  SEG_EPOCH_SIZE=${SEG_EPOCH_SIZE:-8000}
# The classifier trains balanced 1:1 (the recipe), then continues with more non-nodules per nodule
# (ratio=, the book's ratio_int): balanced training ranks candidates well but calibrates p_nodule to a
# 1:1 prior, so at p >= 0.5 it takes several percent of the ~200x more numerous non-nodules for nodules.
CLS_EPOCHS=${CLS_EPOCHS:-6};  CLS_EPOCH_SIZE=${CLS_EPOCH_SIZE:-20000}; CLS_BATCH=${CLS_BATCH:-32}
# Last, it sees the malignancy dataset's 1,374 nodules too (the first 48 CTs hold only 171).
CLS_RATIO=${CLS_RATIO:-20}; CLS_RATIO_EPOCHS=${CLS_RATIO_EPOCHS:-5}; CLS_ALL_EPOCHS=${CLS_ALL_EPOCHS:-5}
CLS_RATIO_EPOCH_SIZE=${CLS_RATIO_EPOCH_SIZE:-10000}
# Then the learning rate comes down (3e-4 for 4 epochs, 1e-4 for CLS_SLOW_EPOCHS): at 1e-3 with momentum 0.99
# the validation F1 swung by +-0.15 between epochs. Last, still at 1e-4, ratio=CLS_PRIOR_RATIO, about the
# candidates' own ratio (~110 non-nodules per nodule), so that p_nodule >= 0.5 suits the real mix.
CLS_SLOW_EPOCHS=${CLS_SLOW_EPOCHS:-6}; CLS_PRIOR_RATIO=${CLS_PRIOR_RATIO:-100}; CLS_PRIOR_EPOCHS=${CLS_PRIOR_EPOCHS:-9}
# Then more small nodules, the classifier's misses until then (4-8.5 mm, a third juxta-pleural): SMALL_CTS
# more training CTs (seed 121) with 4-8 nodules of 4-12 mm; then cycles of epochs of 20,000 at ratio 30 (~650
# nodules an epoch; at ratio 100 an epoch of 10,000 shows only ~100) and epochs of 10,000 at
# ratio=CLS_PRIOR_RATIO again to bring p_nodule back to the candidates' mix: 4+6, then 3+4 epochs.
SMALL_CTS=${SMALL_CTS:-120}; CLS_SMALL_EPOCH_SIZE=${CLS_SMALL_EPOCH_SIZE:-20000}; CLS_SMALL_CYCLES=${CLS_SMALL_CYCLES:-"4+6 3+4"}
MAL_EPOCHS=${MAL_EPOCHS:-12};  MAL_EPOCH_SIZE=${MAL_EPOCH_SIZE:-5000}; MAL_LR=${MAL_LR:-0.01}; MAL_MOMENTUM=${MAL_MOMENTUM:-0.9}
FINETUNE_DEPTH=${FINETUNE_DEPTH:-4}
INSTALL=${INSTALL:-1}

data="$work/data" cache="$work/cache" runs="$work/runs" maldata="$work/mal-data" malcache="$work/mal-cache"
alldata="$work/all-data" allcache="$work/all-cache" smalldata="$work/small-data"
log() { echo "[$(date +%H:%M:%S)] $*"; }

# make_dataset DIR TRAIN_SEED TRAIN_COUNT HELD_SEED HELD_COUNT NODULES: training CTs in subset0, held-out CTs
# (another seed) in subset9, one set of tables.
make_dataset() {
	local dir=$1 train_seed=$2 train_count=$3 held_seed=$4 held_count=$5 nodules=$6
	[ -f "$dir/.complete" ] && return
	log "Generating $train_count training + $held_count held-out synthetic CTs ($CT_SIZE) in $dir"
	rm -rf "$dir" "$work/gen"
	local common=(size="$CT_SIZE" spacing=0.7,0.7,1.25 nodules="$nodules" diameters="$DIAMETERS" preview=false)
	"$luna" phantom output="$work/gen/train" seed="$train_seed" count="$train_count" "${common[@]}"
	"$luna" phantom output="$work/gen/held" seed="$held_seed" count="$held_count" "${common[@]}"
	mkdir -p "$dir/subset0" "$dir/subset9"
	mv "$work/gen/train/"*.mhd "$work/gen/train/"*.raw "$dir/subset0/"
	mv "$work/gen/held/"*.mhd "$work/gen/held/"*.raw "$dir/subset9/"
	for t in annotations.csv annotations_with_malignancy.csv candidates.csv; do
		{ cat "$work/gen/train/$t"; tail -n +2 "$work/gen/held/$t"; } >"$dir/$t"
	done
	rm -rf "$work/gen"
	touch "$dir/.complete"
}

# 1. Datasets: one for the U-Net and the classifier, a larger one (nodules only matter) for malignancy.
make_dataset "$data" 101 "$TRAIN_CTS" 202 "$HELD_CTS" "$NODULES"
make_dataset "$maldata" 111 "$MAL_TRAIN_CTS" 212 "$MAL_HELD_CTS" 4-8
# Both training sets and both held-out sets, for the classifier's later phases: 288 training CTs, and 36
# validation CTs (subsets 8 and 9, 199 nodules) so that picking an epoch by F1 rests on more than 18 nodules.
if [ ! -f "$alldata/.complete" ]; then
	rm -rf "$alldata"
	mkdir -p "$alldata"
	ln -s "$data/subset0" "$alldata/subset0"
	ln -s "$maldata/subset0" "$alldata/subset1"
	ln -s "$maldata/subset9" "$alldata/subset8"
	ln -s "$data/subset9" "$alldata/subset9"
	for t in annotations.csv annotations_with_malignancy.csv candidates.csv; do
		{ cat "$data/$t"; grep -F -e '.99999.111.' -e '.99999.212.' "$maldata/$t"; } >"$alldata/$t"
	done
	touch "$alldata/.complete"
fi

# 2. Crop every training chunk once (resumable), so the loops never re-read whole CTs.
log "Preparing the chunk caches"
"$luna" prepare-cache data="$data" cache="$cache" val_subsets=9
"$luna" prepare-cache data="$maldata" cache="$malcache" kind=mal val_subsets=9
"$luna" prepare-cache data="$alldata" cache="$allcache" kind=cls val_subsets=8,9    # ~28 GB

# Every run validates on its held-out CTs (subset9) and keeps best.pt by its recipe's metric.
train() {  # train COMMAND NAME MARKER key=value ...
	local cmd=$1 name=$2 marker=$3; shift 3
	if [ -f "$runs/$name/$marker" ]; then log "$name ($marker): done already"; return; fi
	local resume=false
	[ -f "$runs/$name/last.pt" ] && resume=true
	log "$cmd $name ($marker)"
	"$luna" "$cmd" output="$runs" name="$name" seed=1 resume=$resume "$@"
	touch "$runs/$name/$marker"
}

# 3. U-Net (best.pt by pixel recall; the last epoch is shipped, see 7).
# (The shipped U-Net began with 3 short epochs of 2,400 samples, then went on to epoch 20 with 8,000 each.)
train train-seg demo-seg .warmup data="$data" cache="$cache" val_subsets=9 epochs=3 epoch_size=2400 batch_size=16
train train-seg demo-seg .complete data="$data" cache="$cache" val_subsets=9 epochs="$SEG_EPOCHS" epoch_size="$SEG_EPOCH_SIZE" batch_size=16
# 4. Nodule classifier (F1 over every held-out candidate): balanced; then ratio=CLS_RATIO; then the same on
# both training sets; then lower learning rates; then ratio=CLS_PRIOR_RATIO; then small nodules added. The
# balanced phase's last.pt is kept as the malignancy model's start. best.pt is shipped (7): the best
# validation F1 from epoch 12 on, where the validation set grows to 36 CTs and best.pt starts afresh.
train train-cls demo-cls .balanced data="$data" cache="$cache" val_subsets=9 epochs="$CLS_EPOCHS" epoch_size="$CLS_EPOCH_SIZE" \
	val_every=2 batch_size="$CLS_BATCH"
[ -f "$runs/demo-cls/balanced.pt" ] || cp "$runs/demo-cls/last.pt" "$runs/demo-cls/balanced.pt"
epoch=$((CLS_EPOCHS + CLS_RATIO_EPOCHS))
train train-cls demo-cls .ratio data="$data" cache="$cache" val_subsets=9 epochs=$epoch \
	epoch_size="$CLS_RATIO_EPOCH_SIZE" val_every=1 batch_size="$CLS_BATCH" ratio="$CLS_RATIO"
cls_data=(data="$alldata" cache="$allcache" val_subsets=8,9 batch_size="$CLS_BATCH")
cls_all=("${cls_data[@]}" epoch_size="$CLS_RATIO_EPOCH_SIZE" val_every=1)
epoch=$((epoch + CLS_ALL_EPOCHS))
train train-cls demo-cls .complete "${cls_all[@]}" epochs=$epoch ratio="$CLS_RATIO"
epoch=$((epoch + 4))
train train-cls demo-cls .slow1 "${cls_all[@]}" epochs=$epoch ratio="$CLS_RATIO" lr=0.0003
epoch=$((epoch + CLS_SLOW_EPOCHS))
train train-cls demo-cls .slow2 "${cls_all[@]}" epochs=$epoch ratio="$CLS_RATIO" lr=0.0001
epoch=$((epoch + CLS_PRIOR_EPOCHS))
train train-cls demo-cls .prior "${cls_all[@]}" epochs=$epoch ratio="$CLS_PRIOR_RATIO" lr=0.0001
# The small-nodule CTs join the training CTs as subset2 (same validation CTs, so best.pt keeps its score);
# prepare-cache crops only the new CTs.
if [ ! -f "$smalldata/.complete" ]; then
	log "Generating $SMALL_CTS training CTs with small nodules in $smalldata"
	rm -rf "$smalldata"
	"$luna" phantom output="$smalldata" seed=121 count="$SMALL_CTS" size="$CT_SIZE" spacing=0.7,0.7,1.25 nodules=4-8 \
		diameters=4-12 preview=false
	touch "$smalldata/.complete"
fi
if [ ! -f "$alldata/.small" ]; then
	mkdir -p "$alldata/subset2"
	ln -sf "$smalldata/"*.mhd "$smalldata/"*.raw "$alldata/subset2/"
	for t in annotations.csv annotations_with_malignancy.csv candidates.csv; do
		tail -n +2 "$smalldata/$t" >>"$alldata/$t"
	done
	touch "$alldata/.small"
fi
"$luna" prepare-cache data="$alldata" cache="$allcache" kind=cls val_subsets=8,9    # ~10 GB more
# Each cycle of CLS_SMALL_CYCLES ("ratio-30 epochs+ratio-100 epochs"): the ratio-30 epochs, validated only at
# their last (val_every=that epoch; at ratio 30, p >= 0.5 takes too many non-nodules for its F1 to compete for
# best.pt anyway), then the ratio-100 epochs.
cycle=0
for plan in $CLS_SMALL_CYCLES; do
	cycle=$((cycle + 1))
	epoch=$((epoch + ${plan%+*}))
	train train-cls demo-cls .small$cycle "${cls_data[@]}" epochs=$epoch epoch_size="$CLS_SMALL_EPOCH_SIZE" val_every=$epoch \
		ratio=30 lr=0.0001
	epoch=$((epoch + ${plan#*+}))
	train train-cls demo-cls .final$cycle "${cls_all[@]}" epochs=$epoch ratio="$CLS_PRIOR_RATIO" lr=0.0001
done
# 5. Malignancy: the classifier fine-tuned (best.pt by ROC AUC, logged next to the diameter-only AUC).
train train-mal demo-mal .complete data="$maldata" cache="$malcache" val_subsets=9 epochs="$MAL_EPOCHS" epoch_size="$MAL_EPOCH_SIZE" \
	batch_size=16 lr="$MAL_LR" momentum="$MAL_MOMENTUM" init="$runs/demo-cls/balanced.pt" finetune_depth="$FINETUNE_DEPTH"

# 6. The validation metrics of each run (held-out CTs), best epoch marked by the loop's log.
for k in seg cls mal; do
	log "demo-$k metrics.csv (validation: held-out CTs, seed 202; for mal seed 212):"
	cat "$runs/demo-$k/metrics.csv"
done

# 7. Keep only the weights and provenance (no optimizer state) and put them into the jar's resources.
# The U-Net ships its last epoch, not best.pt: the recipe picks best.pt by pixel recall, which an
# early epoch wins by marking nearly everything (recall 0.99 at precision 0.02); later epochs keep
# recall above 0.9 at a far better precision, which is what the grouping and classifier need.
# The classifier ships best.pt (see 4).
mkdir -p "$work/models"
for k in seg cls mal; do
	src="$runs/demo-$k/best.pt"
	if [ $k = seg ]; then src="$runs/demo-$k/last.pt"; fi
	"$luna" import-model input="$src" kind=$k output="$work/models/demo-$k.pt"
done
if [ "$INSTALL" = 1 ]; then
	dest="$repo/src/main/resources/org/lungnodules/models"
	mkdir -p "$dest"
	cp "$work/models/"demo-*.pt "$dest/"
	log "Installed into $dest"
fi

# 8. The three goals on synthetic CTs none of the runs saw (seed 303), against the phantoms' own truth:
# classifier F1 over every candidate, segmentation recall for nodules >= 6 mm, malignancy AUC vs diameter.
# The classifier is scored as demo classifies: each chunk and its three in-plane mirror images, averaged
# (add mirror=false to the options for the published single view; docs/demo-models.md has both).
"$luna" bench which=demo-models options="seg=$work/models/demo-seg.pt;cls=$work/models/demo-cls.pt;mal=$work/models/demo-mal.pt" \
	| tee "$work/demo-models-check.txt"

# 9. The demo itself with only the demo weights (an empty models folder), on a CT of yet another seed.
home="$(mktemp -d)"
LUNG_NODULES_HOME="$home" "$luna" demo output="$work/demo-output" seed=2026
rm -rf "$home"

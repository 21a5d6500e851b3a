#!/bin/bash
# Train / validation / test datasets of the reference leak-source models (disjoint seeds),
# one worker (usage: make_data.sh [OUT_DIR], default data-local/gas). About 12 min on one core,
# 25 min with train2 (the second training set of heatmap-gasmap-cpu.yaml).
set -e
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
PW=${PLANTWATCH:-plantwatch}
D=${1:-data-local/gas}
$PW gas dataset --n 1000 --seed 0       --frames 16 --no-leak-fraction 0.2  --occlusion 0.5 --workers 1 --shard-size 25 --out $D/train
$PW gas dataset --n 150  --seed 1000000 --frames 16 --no-leak-fraction 0.2  --occlusion 0.5 --workers 1 --shard-size 25 --out $D/val
$PW gas dataset --n 300  --seed 2000000 --frames 16 --no-leak-fraction 0.15 --occlusion 0.7 --workers 1 --shard-size 25 --out $D/test
$PW gas dataset --n 1500 --seed 3000000 --frames 16 --no-leak-fraction 0.2  --occlusion 0.5 --workers 1 --shard-size 25 --out $D/train2
echo DONE

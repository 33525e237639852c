#!/usr/bin/env bash
# vitkit on an NVIDIA GPU through WebGPU (Dawn over Vulkan), for a machine with
# the GPU's driver and its Vulkan ICD. Installs from the lockfile (the optional
# packages `webgpu` and `@tensorflow/tfjs-backend-webgpu` download nothing),
# builds, then with VITKIT_BACKEND=webgpu: `vitkit info`, parity on every
# fixture, `vitkit throughput` of ViT-S/16, ViT-B/16, CSWin-T and CrossViT-S at
# batch 1, 8 and 64, and a training step of each family's micro model at batch
# 256. Where Python has a CUDA build of PyTorch, ../shared/peers/torch_vit_speed.py
# times ViT-S/16 on the same batches with --device cuda for a ratio. Everything
# goes to one JSON file (default runs/gpu/results.json); the run stops within 8
# minutes. On a machine without an NVIDIA GPU it says so and does nothing else.
#
# usage: scripts/gpu/run.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ! -e /dev/nvidia0 ]] || ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "scripts/gpu/run.sh: no NVIDIA GPU here (no /dev/nvidia0, or nvidia-smi does not list one); nothing to do."
  exit 0
fi
if ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  echo "scripts/gpu/run.sh: the NVIDIA driver has no Vulkan ICD (nvidia_icd.json in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d); Dawn needs it." >&2
  exit 1
fi

out=${1:-runs/gpu/results.json}
deadline=$(($(date +%s) + 8 * 60))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false VITKIT_BACKEND=webgpu

# Runs a step with what is left of the 8 minutes; a step that runs out is recorded as such.
step() {
  local name=$1
  shift
  local left=$((deadline - $(date +%s)))
  if ((left <= 5)); then
    echo "{\"skipped\": \"8-minute budget spent\"}" >"$work/$name.json"
    return
  fi
  echo "== $name" >&2
  local status=0
  timeout "$left" "$@" >"$work/$name.out" || status=$?
  if ((status != 0)); then
    echo "{\"failed\": \"exit status $status\"}" >"$work/$name.json"
    return
  fi
  tail -n 1 "$work/$name.out" >"$work/$name.json"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$work/nvidia-smi.txt"
npm ci --no-audit --no-fund >&2
npx nx run-many -t build --output-style=static >&2
vitkit() { node packages/bench/bin/vitkit.js "$@"; }

step info vitkit info --json
for dir in ../shared/fixtures/parity/*/; do
  step "parity-$(basename "$dir")" vitkit parity "$dir" --json
done
for model in vit_small_patch16_224 vit_base_patch16_224 cswin_tiny_224 crossvit_small_240; do
  for batch in 1 8 64; do
    step "throughput-$model-$batch" vitkit throughput --model "$model" --batch-size "$batch" --runs 5 --warmup 2 --json
  done
done
for model in vit_micro_32 vitc_micro_32 cswin_micro_32 crossvit_micro_32; do
  step "train-$model-256" vitkit throughput --model "$model" --train --batch-size 256 --runs 3 --warmup 1 --json
done
if python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
  for batch in 1 8 64; do
    step "torch-vit_small_patch16_224-$batch" python3 ../shared/peers/torch_vit_speed.py --case vit_small_patch16_224_infer --device cuda --batch "$batch"
  done
fi

mkdir -p "$(dirname "$out")"
node - "$work" "$out" <<'EOF'
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const [work, out] = process.argv.slice(2);
const steps = {};
for (const f of readdirSync(work).filter((f) => f.endsWith('.json')).sort()) {
  const text = readFileSync(`${work}/${f}`, 'utf8').trim();
  try {
    steps[f.slice(0, -5)] = JSON.parse(text);
  } catch {
    steps[f.slice(0, -5)] = { failed: `not JSON: ${text.slice(0, 200)}` };
  }
}
// vitkit time / PyTorch time for ViT-S/16 inference at each batch, where both ran.
const ratios = {};
for (const batch of [1, 8, 64]) {
  const ours = steps[`throughput-vit_small_patch16_224-${batch}`];
  const torch = steps[`torch-vit_small_patch16_224-${batch}`];
  if (ours?.median_s && torch?.median_s) ratios[`vit_small_patch16_224-${batch}`] = ours.median_s / torch.median_s;
}
const gpu = readFileSync(`${work}/nvidia-smi.txt`, 'utf8').trim();
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), gpu, steps, ratios }, null, 1)}\n`);
console.log(`scripts/gpu/run.sh: wrote ${out}`);
EOF

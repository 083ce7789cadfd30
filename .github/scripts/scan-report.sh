#!/usr/bin/env bash
# Usage: scan-report.sh <repository> <tag> (environment: PLATFORMS,
# IMAGE_SCAN_FAIL_AT)
#
# Waits for ECR's scan on push of each platform's image and writes the
# findings into the job summary. It fails only when IMAGE_SCAN_FAIL_AT (a
# severity such as CRITICAL) is set and findings at or above it exist.
set -euo pipefail

repository=$1
tag=$2

# One digest per platform: the manifests of a multi-arch index, or the image.
manifest=$(aws ecr batch-get-image --repository-name "$repository" --image-ids "imageTag=$tag" \
  --accepted-media-types application/vnd.oci.image.index.v1+json \
  application/vnd.docker.distribution.manifest.list.v2+json \
  application/vnd.oci.image.manifest.v1+json \
  application/vnd.docker.distribution.manifest.v2+json \
  --query 'images[0].imageManifest' --output text)
entries=()
if jq -e '.manifests' <<<"$manifest" >/dev/null; then
  while read -r entry; do
    entries+=("$entry")
  done < <(jq -r '.manifests[] | "\(.platform.os)/\(.platform.architecture) \(.digest)"' <<<"$manifest")
else
  digest=$(aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$tag" \
    --query 'imageDetails[0].imageDigest' --output text)
  entries=("$PLATFORMS $digest")
fi

reports=()
for entry in "${entries[@]}"; do
  platform=${entry% *}
  digest=${entry#* }
  out="$RUNNER_TEMP/scan-${digest#sha256:}.json"
  echo '{"imageScanStatus": {"status": "NOT_FOUND", "description": "no scan result after 10 minutes"}}' >"$out"
  for _ in $(seq 1 60); do
    if aws ecr describe-image-scan-findings --repository-name "$repository" \
      --image-id "imageDigest=$digest" >"$out.new" 2>/dev/null; then
      mv "$out.new" "$out"
      status=$(jq -r '.imageScanStatus.status' "$out")
      if [ "$status" != IN_PROGRESS ] && [ "$status" != PENDING ]; then
        break
      fi
    fi
    sleep 10
  done
  reports+=("$platform=$out")
done

go run ./cmd/delivery scan-report -image "$repository:$tag" -fail-at "${IMAGE_SCAN_FAIL_AT:-}" "${reports[@]}" |
  tee -a "$GITHUB_STEP_SUMMARY"

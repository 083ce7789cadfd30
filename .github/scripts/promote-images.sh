#!/usr/bin/env bash
# Usage: promote-images.sh <from-stack> <to-stack> <service=tag>...
#
# Prod runs the very images dev ran: each is copied, by tag, from the
# previous stack's repository into the next stack's (a registry-side copy
# of the manifests and layers; nothing is rebuilt). Both repositories are
# in the registry of the account the credentials belong to; an image
# already there (a re-run) is left alone.
set -euo pipefail

from=$1
to=$2
shift 2
project=$(sed -n 's/^name: *//p' Pulumi.yaml)
account=$(aws sts get-caller-identity --query Account --output text)
registry="$account.dkr.ecr.${AWS_REGION}.amazonaws.com"
aws ecr get-login-password | docker login --username AWS --password-stdin "$registry"

for pair in "$@"; do
  service=${pair%%=*}
  tag=${pair#*=}
  if aws ecr describe-images --repository-name "$project/$to/$service" --image-ids "imageTag=$tag" >/dev/null 2>&1; then
    echo "$project/$to/$service:$tag is already there."
    continue
  fi
  docker buildx imagetools create \
    --tag "$registry/$project/$to/$service:$tag" \
    "$registry/$project/$from/$service:$tag"
  echo "Copied $service:$tag from $from to $to."
done

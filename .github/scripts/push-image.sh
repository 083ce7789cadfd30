#!/usr/bin/env bash
# Usage: push-image.sh (environment: SERVICE, CONTEXT, DOCKERFILE,
# PLATFORMS, STACK, TAG, AWS credentials)
#
# Logs in to the account's ECR registry and reports, as step outputs,
# the image to push and whether it is already there: tags are immutable,
# so a re-run of the same commit pushes nothing and succeeds.
set -euo pipefail

project=$(sed -n 's/^name: *//p' Pulumi.yaml)
repository="$project/$STACK/$SERVICE"
account=$(aws sts get-caller-identity --query Account --output text)
registry="$account.dkr.ecr.${AWS_REGION}.amazonaws.com"
aws ecr get-login-password | docker login --username AWS --password-stdin "$registry"

exists=false
if aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$TAG" >/dev/null 2>&1; then
  exists=true
  echo "::notice::$repository:$TAG is already in ECR (tags are immutable): not built again."
fi
{
  echo "repository=$repository"
  echo "image=$registry/$repository"
  echo "exists=$exists"
} >>"$GITHUB_OUTPUT"

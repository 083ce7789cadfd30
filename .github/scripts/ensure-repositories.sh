#!/usr/bin/env bash
# Usage: ensure-repositories.sh <stack> <service>...
#
# Images are pushed into repositories the program creates, so on a stack's
# first deployment (or a new service's) they do not exist yet. Then this
# runs a targeted `pulumi up` that creates every image repository of the
# stack and only what they need (the KMS key that encrypts them, their
# parent components, the provider), before any image is pushed and before
# any service tries to pull one. The URNs come from the offline plan, which
# runs the same program.
#
# The stack file must already carry an imageTag for every service (the
# program refuses a service without one): the caller sets them first.
set -euo pipefail

stack=$1
shift
project=$(sed -n 's/^name: *//p' Pulumi.yaml)

missing=()
for service in "$@"; do
  if ! aws ecr describe-repositories --repository-names "$project/$stack/$service" >/dev/null 2>&1; then
    missing+=("$service")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "Every image repository exists in $stack."
  exit 0
fi
echo "::notice::Creating the image repositories of $stack first (missing: ${missing[*]})."

"$(dirname "$0")/ensure-stack.sh" "$stack"
go run ./cmd/plan --stack "$stack" --format json >"$RUNNER_TEMP/plan-$stack.json"
targets=()
while read -r urn; do
  targets+=(--target "$urn")
done < <(go run ./cmd/delivery targets -plan "$RUNNER_TEMP/plan-$stack.json")
pulumi up --stack "$stack" --yes --non-interactive "${targets[@]}"

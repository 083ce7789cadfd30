#!/usr/bin/env bash
# Usage: verify-rollout.sh <stack>
#
# `pulumi up` returns once ECS has accepted the new task definitions; the
# deployment happens after, and the deployment circuit breaker rolls a
# failing one back to the previous task definition, which Pulumi never
# sees. So wait for every ECS service of the stack to settle, then check
# that each runs the task definition Pulumi set. A rolled-back service
# fails the job, before the new tags are recorded on main; the next
# deployment's refresh brings the state back in line.
set -euo pipefail

stack=$1
state="$RUNNER_TEMP/state-$stack.json"
services="$RUNNER_TEMP/services-$stack.txt"
pulumi stack export --stack "$stack" >"$state"
go run ./cmd/delivery rollout -state "$state" >"$services"

failed=0
{
  echo "### Rollout of $stack"
  echo
  echo "| service | task definition | result |"
  echo "|---|---|---|"
} >>"$GITHUB_STEP_SUMMARY"
while read -r cluster service want; do
  result="running"
  if ! aws ecs wait services-stable --cluster "$cluster" --services "$service" </dev/null; then
    result="did not become stable"
    failed=1
  else
    got=$(aws ecs describe-services --cluster "$cluster" --services "$service" \
      --query 'services[0].taskDefinition' --output text </dev/null)
    if [ "$got" != "$want" ]; then
      result="rolled back by ECS to ${got##*/}"
      failed=1
    fi
  fi
  if [ "$result" != running ]; then
    echo "::error::$stack/$service $result (aws ecs describe-services --cluster ${cluster##*/} --services $service shows its events)"
  fi
  echo "| $service | ${want##*/} | $result |" >>"$GITHUB_STEP_SUMMARY"
done <"$services"
exit "$failed"

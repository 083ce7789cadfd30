#!/usr/bin/env bash
# Usage: ensure-stack.sh <stack>
#
# Selects the stack, creating it on the first deployment into an empty
# backend (with PULUMI_SECRETS_PROVIDER, e.g. the awskms:// key the
# bootstrap made, or the backend's default). `pulumi stack init` writes the
# stack's secrets settings (encryptionsalt, or secretsprovider and
# encryptedkey) into the stack file; they are committed to main at once,
# since every later run needs them to read the stack's secrets.
set -euo pipefail

stack=$1
file="Pulumi.$stack.yaml"

if pulumi stack select "$stack" >/dev/null 2>&1; then
  echo "Stack $stack exists."
  exit 0
fi

echo "::notice::Creating stack $stack: its first deployment."
cp "$file" "$RUNNER_TEMP/before-$file"
args=(--create)
if [ -n "${PULUMI_SECRETS_PROVIDER:-}" ]; then
  args+=(--secrets-provider "$PULUMI_SECRETS_PROVIDER")
fi
pulumi stack select "${args[@]}" "$stack"

if cmp --silent "$file" "$RUNNER_TEMP/before-$file"; then
  exit 0 # a backend that keeps the secrets settings itself (Pulumi Cloud)
fi
# Keep only the settings, added to the file as it was (pulumi rewrites the
# whole file), here and on main.
cp "$file" "$RUNNER_TEMP/initialized-$file"
cp "$RUNNER_TEMP/before-$file" "$file"
go run ./cmd/delivery stack-settings -file "$file" -from "$RUNNER_TEMP/initialized-$file"
"$(dirname "$0")/commit-to-main.sh" "Record the secrets settings of stack $stack [skip ci]" \
  go run ./cmd/delivery stack-settings -file "$file" -from "$RUNNER_TEMP/initialized-$file"

#!/usr/bin/env bash
# Creates or updates the Event Grid subscription that delivers `Microsoft.Storage.BlobCreated`
# events for blobs under `incoming/` to the `blob_ingest` function (Blob trigger, Event Grid source).
#
# It runs AFTER the code is deployed (azd postdeploy hook, or by hand): the webhook URL carries the
# app's `blobs_extension` system key, which the Functions host creates only once it runs the trigger.
#
# usage: bash scripts/infra/create-eventgrid-subscription.sh [-g RESOURCE_GROUP] [-a FUNCTION_APP]
#                                                          [-t SYSTEM_TOPIC] [-n SUBSCRIPTION_NAME]
# Defaults come from the azd environment (or exported variables): AZURE_RESOURCE_GROUP,
# AZURE_FUNCTION_APP_NAME, AZURE_EVENTGRID_SYSTEM_TOPIC_NAME. Needs the Azure CLI, logged in.
set -euo pipefail

resource_group="${AZURE_RESOURCE_GROUP:-}"
app="${AZURE_FUNCTION_APP_NAME:-}"
topic="${AZURE_EVENTGRID_SYSTEM_TOPIC_NAME:-}"
subscription_name="blob-ingest"
function_name="blob_ingest"
container="incoming"
key_attempts="${KEY_WAIT_ATTEMPTS:-30}"
key_interval="${KEY_WAIT_SECONDS:-10}"

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "create-eventgrid-subscription: $*" >&2; exit 1; }

while getopts "g:a:t:n:h" option; do
  case "$option" in
    g) resource_group="$OPTARG" ;;
    a) app="$OPTARG" ;;
    t) topic="$OPTARG" ;;
    n) subscription_name="$OPTARG" ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

[ -n "$resource_group" ] || die "no resource group: pass -g or set AZURE_RESOURCE_GROUP"
[ -n "$app" ] || die "no function app: pass -a or set AZURE_FUNCTION_APP_NAME"
command -v az >/dev/null || die "the Azure CLI (az) is required"

if [ -z "$topic" ]; then
  topic="$(az eventgrid system-topic list --resource-group "$resource_group" \
    --query "[?topicType=='Microsoft.Storage.StorageAccounts'].name | [0]" --output tsv)"
  [ -n "$topic" ] || die "no storage system topic in $resource_group: pass -t"
fi

host_name="$(az functionapp show --resource-group "$resource_group" --name "$app" \
  --query defaultHostName --output tsv)"
[ -n "$host_name" ] || die "function app $app not found in $resource_group"

# The key exists once the host has started with the blob trigger loaded: wait for it.
key=""
for attempt in $(seq 1 "$key_attempts"); do
  key="$(az functionapp keys list --resource-group "$resource_group" --name "$app" \
    --query "systemKeys.blobs_extension" --output tsv 2>/dev/null || true)"
  [ -n "$key" ] && break
  echo "waiting for the blobs_extension key of $app ($attempt/$key_attempts)..." >&2
  sleep "$key_interval"
done
[ -n "$key" ] || die "no blobs_extension system key: is the code deployed with the blob_ingest trigger?"

endpoint="https://${host_name}/runtime/webhooks/blobs?functionName=Host.Functions.${function_name}&code=${key}"
subject_prefix="/blobServices/default/containers/${container}/"

# `create` is a create-or-update (PUT): re-running it refreshes the endpoint and filters.
# The endpoint holds a key: never echo it.
az eventgrid system-topic event-subscription create \
  --resource-group "$resource_group" \
  --system-topic-name "$topic" \
  --name "$subscription_name" \
  --endpoint-type webhook \
  --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "$subject_prefix" \
  --output none

echo "Event Grid subscription $subscription_name: $topic -> $app/$function_name, BlobCreated under $subject_prefix"

#!/bin/sh
# One-shot (admin-tools image): the namespace and the custom search attributes that the
# notification workflows upsert (src/searchAttributes.ts; test/compose.test.ts checks this list).
# Idempotent: only what is missing is created.
set -eu
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"

until temporal operator cluster health --address "$ADDRESS"; do
  echo "waiting for Temporal at $ADDRESS"
  sleep 2
done

temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$NAMESPACE" --retention 7d --address "$ADDRESS"

created=""
create_attribute() {
  if temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" | grep -qw "$1"; then
    echo "search attribute $1 exists"
  else
    temporal operator search-attribute create --namespace "$NAMESPACE" --address "$ADDRESS" --name "$1" --type "$2"
    created=1
  fi
}
create_attribute NotificationStatus Keyword
create_attribute NotificationReleaseAt Datetime
create_attribute NotificationCategory Keyword
create_attribute NotificationChannel Keyword
create_attribute RecipientId Keyword
create_attribute NotificationEvidence Keyword
if [ -n "$created" ]; then
  # Every service reads the attributes from its namespace cache, which refreshes every 2 s
  # (dynamicconfig/docker.yaml says why it is not re-read on every lookup): the workers, which
  # start after this, then find them everywhere.
  sleep 4
fi
echo "namespace $NAMESPACE and its search attributes are ready"

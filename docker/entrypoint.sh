#!/bin/sh
# The image's entrypoint. `node start` (the default) runs the daemon with settings from APPLIANCE_* variables;
# Without --config, node.id and host default to this container's short and full host names, which is what a
# Kubernetes StatefulSet with a headless Service gives (appliance-0, appliance-0.appliance.ns.svc.cluster.local).
# Any other arguments run the appliance command, e.g. `docker run ... appliance:latest cluster status`.
set -eu
if [ "$#" -eq 2 ] && [ "$1" = node ] && [ "$2" = start ]; then
  : "${APPLIANCE_NODE_ID:=$(hostname -s)}"
  : "${APPLIANCE_HOST:=$(hostname -f)}"
  export APPLIANCE_NODE_ID APPLIANCE_HOST
  if [ ! -w "$APPLIANCE_DATA_DIR" ]; then
    echo "appliance: the data directory $APPLIANCE_DATA_DIR is not writable by uid $(id -u);" \
      "give the volume to uid 999 (chown 999:999, or fsGroup: 999 in Kubernetes)" >&2
    exit 1
  fi
fi
# exec: the JVM receives SIGTERM from tini directly.
# shellcheck disable=SC2086 # APPLIANCE_JAVA_OPTS holds several options on purpose
exec java ${APPLIANCE_JAVA_OPTS:-} -jar /opt/appliance/appliance.jar "$@"

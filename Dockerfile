# The appliance: one node's daemon with its PostgreSQL 15, as an image.
#
#   bin/build-image                      # builds the jar, a local Debian base where none can be pulled, then this
#   docker run -d --network host -v n1:/var/lib/appliance \
#     -e APPLIANCE_NODE_ID=n1 -e APPLIANCE_HOST=127.0.0.11 \
#     -e APPLIANCE_PEERS=n1=127.0.0.11:7000,n2=127.0.0.12:7000,n3=127.0.0.13:7000 appliance:latest
#
# Settings are APPLIANCE_* environment variables (docs/configuration.md); data lives on the volume
# /var/lib/appliance; logs go to stdout; SIGTERM makes a primary hand over before it stops, so give
# `docker stop` time (-t 60). docs/deploy.md explains the rest.
ARG BASE=debian:bookworm
FROM ${BASE}

ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8

# A fixed uid/gid for postgres (999), made before the packages would make one, so volumes prepared outside the
# image (chown 999:999) and securityContext.fsGroup agree with it. No default cluster from postgresql-common:
# the daemon runs initdb itself, with data checksums.
RUN groupadd --system --gid 999 postgres \
 && useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/bash postgres \
 && mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      postgresql-15 postgresql-client-15 \
      postgresql-15-postgis-3 postgresql-15-postgis-3-scripts postgresql-15-pgrouting \
      openjdk-17-jre-headless tini curl ca-certificates util-linux procps \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /opt/appliance /var/lib/appliance /var/run/postgresql \
 && chown postgres:postgres /var/lib/appliance /var/run/postgresql

COPY cli/target/appliance.jar /opt/appliance/appliance.jar
COPY docker/entrypoint.sh /usr/local/bin/appliance-entrypoint
COPY docker/appliance /usr/local/bin/appliance

ENV APPLIANCE_DATA_DIR=/var/lib/appliance \
    APPLIANCE_POSTGRES_BIN=/usr/lib/postgresql/15/bin \
    APPLIANCE_JAVA_OPTS="-XX:MaxRAMPercentage=20 -XX:+ExitOnOutOfMemoryError"
VOLUME /var/lib/appliance
USER postgres
WORKDIR /var/lib/appliance
EXPOSE 5432 6432 7000 8008

# /health: postgres runs on this node. Readiness for traffic is /primary or /replica (deploy/kubernetes).
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD curl -fsS -o /dev/null "http://${APPLIANCE_HOST:-127.0.0.1}:${APPLIANCE_API_PORT:-8008}/health" || exit 1

# tini is PID 1: it passes SIGTERM on to the daemon and reaps the processes that exit under it.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/appliance-entrypoint"]
CMD ["node", "start"]

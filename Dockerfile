# loupe container image: built on Debian 12, run from scratch with only the
# binary, the shared libraries it links and the dynamic loader.
#
#   docker build -t loupe .
#   docker run -d --name loupe -p 18888:18888 -p 4317:4317 -p 4318:4318 \
#       -v loupe-data:/data loupe
#
# Behind a TLS-intercepting proxy, give npm the proxy's CA bundle as a
# build secret (it is used by `npm ci` only and not kept in any layer):
#
#   docker build --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt -t loupe .
#   podman build --format docker --secret id=npm_ca,src=... -t loupe .
#
# (podman keeps the HEALTHCHECK only with --format docker.) `make
# container-test` builds and runs this file with podman; BASE names the
# Debian 12 image to build on (it uses one made with debootstrap).

ARG BASE=debian:12

# ---- build -------------------------------------------------------------------
FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev libmicrohttpd-dev libnghttp2-dev libprotobuf-c-dev \
      protobuf-c-compiler libsqlite3-dev zlib1g-dev libjansson-dev libcurl4-gnutls-dev nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# npm packages first, from the committed lockfile (a layer of their own that
# is reused while the lockfile does not change); only uPlot is used by the
# build, no install scripts run. NODE_EXTRA_CA_CERTS names the npm_ca
# secret; without one node warns that the file is missing and goes on.
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca \
    NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca \
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY Makefile ./
COPY proto proto
COPY scripts scripts
COPY util util
COPY server server
COPY storage storage
COPY web web
RUN make -j"$(nproc)" OPT=-O2

# ---- the runtime tree ----------------------------------------------------------
# /rootfs gets the stripped binary, every library `ldd` lists at the path it
# lists (the loader finds them in its default directories), the loader,
# and the few files a scratch image needs: the loupe user and group, /tmp,
# and an empty directory for the /data volume (/data-init, copied apart so
# that it can be owned by loupe). No shell, no package manager, no CA
# certificates: forwarding to an https:// destination (--forward) needs the
# host's bundle mounted at /etc/ssl/certs/ca-certificates.crt.
FROM build AS rootfs
RUN set -eu; \
    mkdir -p /rootfs/usr/local/bin /rootfs/etc /rootfs/tmp /data-init; \
    strip --strip-unneeded -o /rootfs/usr/local/bin/loupe build/loupe; \
    for lib in $(ldd build/loupe | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do \
        cp --parents -L "$lib" /rootfs/; \
    done; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nloupe:x:10001:10001:loupe:/data:/sbin/nologin\n' \
        > /rootfs/etc/passwd; \
    printf 'root:x:0:\nloupe:x:10001:\n' > /rootfs/etc/group; \
    chmod 1777 /rootfs/tmp; \
    chown 10001:10001 /data-init

# ---- runtime -----------------------------------------------------------------
FROM scratch
COPY --from=rootfs /rootfs /
COPY --from=rootfs --chown=10001:10001 /data-init /data
USER 10001:10001
# Every flag has an environment twin; the listen addresses are loupe's
# defaults (all interfaces). Change the UI port with LOUPE_UI_ADDR rather
# than --ui-addr so that the health check finds it too.
ENV PATH=/usr/local/bin LOUPE_DATA_DIR=/data
VOLUME /data
WORKDIR /data
EXPOSE 18888 4317 4318
# GET /readyz on the UI port (/healthz on a server without /readyz); exit 0/1.
HEALTHCHECK --interval=30s --timeout=10s --start-period=15s --retries=3 \
    CMD ["/usr/local/bin/loupe", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/loupe"]

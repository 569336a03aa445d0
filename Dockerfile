# loupe container image: build on Debian 12, run on Debian 12 slim.
#
#   docker build -t loupe .
#   docker run -d --name loupe -p 18888:18888 -p 4317:4317 -p 4318:4318 \
#       -v loupe-data:/data loupe
#
# The runtime image holds the binary and the shared libraries it links
# (`make docker-check` verifies the package list below against `ldd`), runs
# as uid 10001, keeps its SQLite database in the /data volume and checks its
# own health with `loupe healthcheck` (no curl in the image).

# ---- build -------------------------------------------------------------------
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev libmicrohttpd-dev libnghttp2-dev libprotobuf-c-dev \
      protobuf-c-compiler libsqlite3-dev zlib1g-dev libjansson-dev nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# npm packages first, from the committed lockfile (a layer of their own that
# is reused while the lockfile does not change); only uPlot is used by the
# build, no install scripts run.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY Makefile ./
COPY proto proto
COPY scripts scripts
COPY util util
COPY server server
COPY storage storage
COPY web web
RUN make -j"$(nproc)" OPT=-O2

# ---- runtime -----------------------------------------------------------------
FROM debian:12-slim
# The libraries build/loupe links (and, through their dependencies, GnuTLS
# for libmicrohttpd); nothing else.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libnghttp2-14 libprotobuf-c1 libsqlite3-0 zlib1g libjansson4 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 loupe \
 && useradd --uid 10001 --gid loupe --no-create-home --home-dir /data \
      --shell /usr/sbin/nologin loupe \
 && mkdir -p /data \
 && chown loupe:loupe /data
COPY --from=build /src/build/loupe /usr/local/bin/loupe
USER loupe:loupe
# Every flag has an environment twin; the listen addresses are loupe's
# defaults (all interfaces). Change the UI port with LOUPE_UI_ADDR rather
# than --ui-addr so that the health check finds it too.
ENV LOUPE_DATA_DIR=/data
VOLUME /data
WORKDIR /data
EXPOSE 18888 4317 4318
# GET /readyz on the UI port (/healthz on a server without /readyz); exit 0/1.
HEALTHCHECK --interval=30s --timeout=10s --start-period=15s --retries=3 \
    CMD ["loupe", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["loupe"]

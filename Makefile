# loupe - a standalone OpenTelemetry dashboard server.
#
#   make            build build/loupe
#   make run        install missing packages, build, run with data in ./loupe-data
#   make test       install missing packages, build, run the whole test suite
#   make test-unit  C unit tests only          make test-interop  Node tests only
#   make test-browser  the web UI in headless Chromium
#   make asan       the whole suite under AddressSanitizer + UBSan
#   make tsan       threaded parts under ThreadSanitizer   make valgrind  leaks
#   make deb        build/loupe_VERSION_ARCH.deb     make deb-test  install, run, purge it (root)
#   make container-test  build the image with podman, check and run it (root)
#   make deb-systemd-test  the package under systemd in a podman container (root)
#   make bench      benchmarks (see docs/benchmarks.md)   make bench-smoke  their tooling, quickly
#   make bench-inspector  ingest with the ingest inspector on and off
#   make bench-lint the lint's cost at ingest (on vs off)
#   make bench-patterns  log patterns' cost at log ingest (on vs off)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (see the fuzzing section)
#   make lint       banned functions and static checks     make format
#
# Variables: SANITIZE=address,undefined builds into build/san-*;
# CFLAGS_EXTRA=-Werror (CI); CC=clang.

.DEFAULT_GOAL := all
CC ?= cc
PKGS := libmicrohttpd libnghttp2 libprotobuf-c sqlite3 zlib jansson libcurl
TEST_PKGS := check

comma := ,
# V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-8s %s\n' $(1) $(2)
endif
# Two flavours. The release build (make, make run, make bench) is built with
# NDEBUG and without test hooks. TESTING=1, which the test goals and every
# sanitizer build set, defines LOUPE_TESTING (the hooks the tests drive: the
# writer delay, the gRPC receiver's detached mode) and keeps assert()
# (see docs/ARCHITECTURE.md, "Test builds").
TEST_GOALS := test test-unit test-interop test-browser unit-tests tsan tsan-run valgrind \
              test-fuzz-replay fuzz-seeds fuzz fuzz-build test-clickhouse
ifneq ($(filter $(TEST_GOALS),$(MAKECMDGOALS)),)
TESTING ?= 1
endif
export TESTING
ifneq ($(SANITIZE),)
override TESTING := 1
endif
ifeq ($(SANITIZE),)
ifeq ($(TESTING),1)
BUILD ?= build/test
else
BUILD ?= build
endif
SAN_FLAGS :=
else
BUILD ?= build/san-$(subst $(comma),-,$(SANITIZE))
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ifeq ($(TESTING),1)
FLAVOUR := -DLOUPE_TESTING
else
FLAVOUR := -DNDEBUG
endif

GEN := $(BUILD)/gen
WARN := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wundef -Wwrite-strings -Wvla
OPT ?= -O2 -g
CPPFLAGS_ALL := -D_GNU_SOURCE $(FLAVOUR) -I. -I$(GEN) $(CPPFLAGS)
CFLAGS_ALL := $(WARN) $(OPT) $(SAN_FLAGS) -pthread -MMD -MP $(CFLAGS) $(CFLAGS_EXTRA)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)
LDLIBS_ALL := $(SAN_FLAGS) -pthread -lm

# ---- generated protobuf-c code -------------------------------------------
PROTOS := $(shell find proto -name '*.proto' | sort)
PB_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PB_H := $(PB_C:.c=.h)

$(GEN)/.protos.stamp: $(PROTOS)
	@mkdir -p $(GEN)
	$(call say,PROTOC,$(GEN))
	$(Q)protoc-c --c_out=$(GEN) -Iproto $(PROTOS)
	@touch $@

$(PB_C) $(PB_H): $(GEN)/.protos.stamp ;

# ---- embedded web assets --------------------------------------------------
# web/ is the UI source; scripts/build-web.mjs writes what is embedded into
# $(BUILD)/web (content-hashed names, uPlot and dagre from node_modules).
WEB_FILES := $(shell find web -type f ! -name '*.md' | sort)
WEB_OUT := $(BUILD)/web
$(BUILD)/tools/embed: scripts/embed.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -std=c11 -O1 -Wall -Wextra -o $@ $< -lz

$(WEB_OUT)/index.html: $(WEB_FILES) scripts/build-web.mjs package-lock.json
	@test -f node_modules/uplot/dist/uPlot.iife.min.js -a -f node_modules/@dagrejs/dagre/dist/dagre.esm.js || \
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(call say,WEB,$(WEB_OUT))
	$(Q)node scripts/build-web.mjs web $(WEB_OUT)

$(GEN)/web_assets.c: $(BUILD)/tools/embed $(WEB_OUT)/index.html
	@mkdir -p $(GEN)
	$(call say,EMBED,$@)
	$(Q)$(BUILD)/tools/embed $(WEB_OUT) $@ $$(find $(WEB_OUT) -type f | sort)

# ---- the library and the binary ------------------------------------------
LIB_SRC := $(sort $(wildcard util/*.c storage/*.c server/*/*.c server/*.c))
LIB_SRC := $(filter-out server/main.c,$(LIB_SRC))
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) \
           $(patsubst $(GEN)/%.c,$(BUILD)/obj/gen/%.o,$(PB_C)) \
           $(BUILD)/obj/gen/web_assets.o

all: $(BUILD)/loupe

$(BUILD)/obj/%.o: %.c $(GEN)/.protos.stamp
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(GEN)/%.c $(GEN)/.protos.stamp
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(OPT) $(SAN_FLAGS) -pthread -MMD -MP -c -o $@ $<

$(BUILD)/libloupe.a: $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BUILD)/loupe: $(BUILD)/obj/server/main.o $(BUILD)/libloupe.a
	$(call say,LINK,$@)
	$(Q)$(CC) -o $@ $^ $(PKG_LIBS) $(LDLIBS_ALL)

# ---- C unit tests (Check) -------------------------------------------------
UNIT_SRC := $(sort $(shell find tests/unit -name 'test_*.c' 2>/dev/null))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libloupe.a
	@mkdir -p $(dir $@)
	$(call say,TEST,$@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(PKG_CFLAGS) $(TEST_CFLAGS) $(CFLAGS_ALL) -o $@ $< \
		$(BUILD)/libloupe.a $(PKG_LIBS) $(TEST_LIBS) $(LDLIBS_ALL)

unit-tests: $(UNIT_BIN)

# Every binary runs even after a failure; the failed ones are named again at
# the end, so the tail of a long log says which.
test-unit: $(UNIT_BIN)
	@failed=""; for t in $(UNIT_BIN); do \
		echo "== $$t"; CK_DEFAULT_TIMEOUT=60 $$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "unit tests failed:$$failed"; exit 1; fi

# ==== fuzzing (libFuzzer targets in tests/fuzz/) ============================
# Every tests/fuzz/fuzz_<name>.c is a target; its seed corpus is
# tests/fuzz/corpus/<name>/ and inputs that once crashed it are kept in
# tests/fuzz/regressions/<name>/ (both optional).
#
#   make fuzz              build every target with clang + libFuzzer + ASan +
#                          UBSan into build/fuzz/ and run each for FUZZ_SECONDS
#   make fuzz FUZZ_TARGETS=otlp_pb FUZZ_SECONDS=600   one target, longer
#   make fuzz-build        only build them
#   make fuzz-seeds        regenerate the seeds made by tests/fuzz/make_seeds.c
#   make test-fuzz-replay  replay the committed corpora and regressions through
#                          each target built with $(CC) (part of test-unit)
#
# libFuzzer adds what it finds to build/fuzz/corpus/<name>/ (kept between
# runs); the committed corpus and the regressions are read-only inputs to it.
# A crash, leak, timeout or out-of-memory fails the run; its input is saved
# as build/fuzz/artifacts/<name>/crash-* (or leak-, timeout-, oom-), and the
# log is build/fuzz/logs/<name>.log. Reproduce with
# build/fuzz/fuzz_<name> FILE, minimise with -minimize_crash=1 -runs=10000.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_MAX_LEN ?= 65536
FUZZ_RSS_MB ?= 2048
FUZZ_TIMEOUT ?= 10
FUZZ_FLAGS ?=
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_ALL := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(WARN) -O1 -g $(FUZZ_SAN) -DLOUPE_TESTING -pthread -MMD -MP $(CFLAGS_EXTRA)
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRC)) \
                $(patsubst $(GEN)/%.c,$(FUZZ_DIR)/obj/gen/%.o,$(PB_C)) \
                $(FUZZ_DIR)/obj/gen/web_assets.o
FUZZ_BIN := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_ALL))
REPLAY_BIN := $(patsubst %,$(BUILD)/fuzz-replay/fuzz_%,$(FUZZ_ALL))

# The library again, instrumented for coverage (fuzzer-no-link) and sanitized.
$(FUZZ_DIR)/obj/%.o: %.c $(GEN)/.protos.stamp
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/obj/gen/%.o: $(GEN)/%.c $(GEN)/.protos.stamp
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
		-pthread -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/libloupe.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libloupe.a
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) -Itests/fuzz $(PKG_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_DIR)/libloupe.a $(PKG_LIBS) -pthread -lm

# Fails early, with the packages to install, when clang cannot link a fuzzer.
fuzz-toolchain:
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
		'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }' | \
		$(FUZZ_CC) -x c -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null || \
		{ echo "fuzz: $(FUZZ_CC) cannot build libFuzzer targets;" \
			"install the Debian packages clang and libclang-rt-14-dev"; exit 1; }

fuzz-build: fuzz-toolchain $(FUZZ_BIN)

fuzz: fuzz-toolchain $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
	@fail=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t $(FUZZ_DIR)/logs; \
		log=$(FUZZ_DIR)/logs/$$t.log; \
		printf 'fuzz %-12s %ss ... ' $$t $(FUZZ_SECONDS); \
		if ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
			UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1} \
			$(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
			-rss_limit_mb=$(FUZZ_RSS_MB) -timeout=$(FUZZ_TIMEOUT) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ $(FUZZ_FLAGS) \
			$(FUZZ_DIR)/corpus/$$t $$(ls -d tests/fuzz/corpus/$$t tests/fuzz/regressions/$$t \
			2>/dev/null) >$$log 2>&1; then \
			echo "ok, $$(sed -n 's/^stat::number_of_executed_units: *//p' $$log) runs," \
				"$$(ls $(FUZZ_DIR)/corpus/$$t | wc -l) inputs in $(FUZZ_DIR)/corpus/$$t"; \
		else \
			echo "FAILED (log: $$log)"; tail -n 40 $$log; fail="$$fail $$t"; \
		fi; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: failed:$$fail; inputs in $(FUZZ_DIR)/artifacts/"; \
		exit 1; fi

# Replay: each target linked with tests/fuzz/replay.c instead of libFuzzer,
# built like the unit tests (so SANITIZE=... applies).
$(BUILD)/fuzz-replay/replay.o: tests/fuzz/replay.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/fuzz-replay/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzz-replay/replay.o $(BUILD)/libloupe.a
	$(call say,REPLAY,$@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/fuzz $(PKG_CFLAGS) $(CFLAGS_ALL) -o $@ $< \
		$(BUILD)/fuzz-replay/replay.o $(BUILD)/libloupe.a $(PKG_LIBS) $(LDLIBS_ALL)

test-fuzz-replay: $(REPLAY_BIN)
	@fail=0; for t in $(FUZZ_ALL); do \
		$(BUILD)/fuzz-replay/fuzz_$$t tests/fuzz/corpus/$$t tests/fuzz/regressions/$$t \
			|| fail=1; done; \
	exit $$fail

test-unit: test-fuzz-replay

# Rewrites the seed corpora that tests/fuzz/make_seeds.c makes.
FUZZ_SEEDED := otlp_pb otlp_json gz apiparam api http_util
$(BUILD)/fuzz-replay/make_seeds: tests/fuzz/make_seeds.c $(BUILD)/libloupe.a
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(PKG_CFLAGS) $(CFLAGS_ALL) -o $@ $< \
		$(BUILD)/libloupe.a $(PKG_LIBS) $(LDLIBS_ALL)

fuzz-seeds: $(BUILD)/fuzz-replay/make_seeds
	cd tests/fuzz/corpus && rm -rf $(FUZZ_SEEDED) && mkdir $(FUZZ_SEEDED)
	$(BUILD)/fuzz-replay/make_seeds tests/fuzz/corpus tests/unit/server/fixtures

.PHONY: fuzz fuzz-build fuzz-toolchain fuzz-seeds test-fuzz-replay
-include $(shell find $(FUZZ_DIR) $(BUILD)/fuzz-replay -name '*.d' 2>/dev/null)
# ==== end of fuzzing ========================================================

# ---- micro-benchmarks (programs, not tests) -------------------------------
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libloupe.a
	@mkdir -p $(dir $@)
	$(call say,BENCH,$@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(PKG_CFLAGS) $(CFLAGS_ALL) -o $@ $< \
		$(BUILD)/libloupe.a $(PKG_LIBS) $(LDLIBS_ALL)

# The load generator (tests/bench/loadgen.c and tests/bench/loadgen/): fresh
# OTLP requests over gRPC (nghttp2's client side) or HTTP/1.1.
LOADGEN_SRC := tests/bench/loadgen.c $(sort $(wildcard tests/bench/loadgen/*.c))
$(BUILD)/bench/loadgen: $(LOADGEN_SRC) tests/bench/loadgen/loadgen.h tests/unit/otlp_build.h \
		$(BUILD)/libloupe.a
	@mkdir -p $(dir $@)
	$(call say,BENCH,$@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(PKG_CFLAGS) $(WARN) $(OPT) $(SAN_FLAGS) -pthread \
		$(CFLAGS) $(CFLAGS_EXTRA) -o $@ $(LOADGEN_SRC) $(BUILD)/libloupe.a $(PKG_LIBS) $(LDLIBS_ALL)

bench-decode: $(BUILD)/bench/bench_decode
	./$(BUILD)/bench/bench_decode

# 1,000,000 spans and logs through the store, then query latencies (minutes)
bench-query: $(BUILD)/bench/bench_query
	./$(BUILD)/bench/bench_query $(BENCH_QUERY_ITEMS)

# ---- Node tests (interop with the official exporters, HTTP edge cases) ----
# One file at a time (each starts its own servers). The spec reporter lists
# the failed tests again after the totals, so the tail of a log names them.
NODE_TEST := node --test --test-concurrency=1 --test-reporter=spec
INTEROP_TESTS := $(sort $(shell find tests/interop -name '*.test.mjs' 2>/dev/null))
test-interop: $(BUILD)/loupe
	LOUPE_BIN=$(abspath $(BUILD)/loupe) LOUPE_WEB_DIR=$(abspath $(WEB_OUT)) \
		$(NODE_TEST) $(INTEROP_TESTS)

# ---- the interop tests against the ClickHouse store (make test-clickhouse) --
# scripts/test-clickhouse.mjs starts a private clickhouse-server (temp dir,
# loopback ports; never the package's service) and runs the interop tests
# listed in CH_INTEROP with LOUPE_TEST_CLICKHOUSE_URL set, so that
# tests/interop/lib/server.mjs starts loupe with --storage clickhouse (a
# database per loupe), then CH_CLUSTER_INTEROP on a two-shard cluster.
# tests/interop/clickhouse.test.mjs, which starts its own servers, is one of
# INTEROP_TESTS.
# CH_INTEROP: the interop tests whose answers do not depend on SQLite's own
# machinery (segments, the data directory, --forward, partial answers, the
# lint's parent rules; docs/storage.md lists why), run unchanged on
# ClickHouse; CH_CLUSTER_INTEROP: those run again on the two-shard cluster.
CH_INTEROP ?= api_query api_stream otlp_roundtrip otlp_auth otlp_http_errors grpc_errors \
	trace_analysis trace_search_text analytics_map mcp ingest_inspector limits \
	store_backpressure cli_expect ui_auth ui_base_path
CH_CLUSTER_INTEROP ?= api_query api_stream trace_analysis analytics_map
CH_TESTS = $(patsubst %,tests/interop/%.test.mjs,$(CH_INTEROP))
CH_SHARDS ?= 1
test-clickhouse: $(BUILD)/loupe
	LOUPE_BIN=$(abspath $(BUILD)/loupe) LOUPE_WEB_DIR=$(abspath $(WEB_OUT)) \
		node scripts/test-clickhouse.mjs --shards $(CH_SHARDS) $(CH_TESTS)
	LOUPE_BIN=$(abspath $(BUILD)/loupe) LOUPE_WEB_DIR=$(abspath $(WEB_OUT)) \
		node scripts/test-clickhouse.mjs --shards 2 \
		$(patsubst %,tests/interop/%.test.mjs,$(CH_CLUSTER_INTEROP))

# ---- browser tests (headless Chromium from Debian, playwright-core) -------
BROWSER_TESTS := $(sort $(shell find tests/browser -name '*.test.mjs' 2>/dev/null))
test-browser: $(BUILD)/loupe
	LOUPE_BIN=$(abspath $(BUILD)/loupe) $(NODE_TEST) $(BROWSER_TESTS)

# ---- ThreadSanitizer: the threaded parts (make tsan) -----------------------
# The unit tests of the ring, the store's writer and readers, the gRPC
# server, the live hub, the OTLP/HTTP receiver, concurrent decoding and the
# self-metrics, the ingest log, and the interop tests listed in TSAN_INTEROP
# against a TSan build of loupe (build/san-thread). The first race report
# ends the process (halt_on_error) with a non-zero status, which fails the
# test (Check reports the early exit; the interop harness's stop() throws).
TSAN_UNIT := storage/test_ring storage/test_store storage/test_store_delete storage/test_segments \
             storage/test_store_retention server/receive/test_grpc server/api/test_api_stream \
             server/receive/test_otlp_http server/api/test_api server/decode/test_otlp_pb \
             server/decode/test_otlp_json server/api/test_selfmetrics server/net/test_ingest_log
# The interop tests under TSan: those whose server runs its threads against
# each other (receivers and writer under load, readers during writes, live
# streams, forwarding, retention, the analytics rollups). Not here: tests
# that time a graceful stop (store_sigterm's drain deadline is sized for an
# uninstrumented build) and the rest, which the plain and ASan runs cover.
TSAN_INTEROP ?= otlp_roundtrip api_query api_stream grpc_load store_backpressure store_restart \
                store_diskfull conn_faults forward analytics_map analytics_red trace_analysis \
                mcp cli_run ops_metrics ingest_inspector clickhouse
TSAN_TESTS = $(patsubst %,tests/interop/%.test.mjs,$(TSAN_INTEROP))
TSAN_RUN_OPTIONS ?= halt_on_error=1 second_deadlock_stack=1 \
                    suppressions=$(abspath tests/tsan.supp)
tsan-run: $(BUILD)/loupe $(patsubst %,$(BUILD)/tests/%,$(TSAN_UNIT))
	@fail=0; for t in $(TSAN_UNIT); do echo "== tsan $$t"; \
		TSAN_OPTIONS="$(TSAN_RUN_OPTIONS)" CK_DEFAULT_TIMEOUT=120 $(BUILD)/tests/$$t || fail=1; \
	done; [ $$fail = 0 ] || { echo "tsan: unit tests failed"; exit 1; }
	TSAN_OPTIONS="$(TSAN_RUN_OPTIONS)" LOUPE_BIN=$(abspath $(BUILD)/loupe) \
		LOUPE_WEB_DIR=$(abspath $(WEB_OUT)) $(NODE_TEST) $(TSAN_TESTS)

tsan: deps-test
	@$(MAKE) --no-print-directory SANITIZE=thread tsan-run

# ---- valgrind: memory errors and leaks of a short session (make valgrind) --
# build/loupe under memcheck (tests/valgrind/loupe-valgrind.sh) for the
# interop tests below: ingest over OTLP/HTTP (protobuf, JSON, gzip) and
# OTLP/gRPC, hostile input, limits, auth, idle and slow connections, load
# and backpressure, every API query, export/import, live streams, /metrics,
# the MCP endpoint, the ingest inspector and loupe expect (a client process
# of its own, also under memcheck), then SIGTERM. Any error or definitely or
# indirectly lost block makes loupe exit 99, which fails the test. (Not
# here: kill -9 tests, which end loupe before any leak check; tests that
# measure loupe's own I/O or memory, which valgrind's would distort; and the
# other client commands' tests (cli, cli_query, cli_run: hundreds of short
# processes, four minutes under memcheck), which ASan's leak check covers.)
VALGRIND_INTEROP ?= otlp_roundtrip api_query api_stream ui_api grpc_errors otlp_http_errors \
                    grpc_load store_backpressure limits ops_metrics otlp_auth ui_auth \
                    conn_faults mcp cli_expect ingest_inspector
VALGRIND_TESTS = $(patsubst %,tests/interop/%.test.mjs,$(VALGRIND_INTEROP))
valgrind: deps-test
	@$(MAKE) --no-print-directory all
	LOUPE_VALGRIND_BIN=$(abspath $(BUILD)/loupe) LOUPE_BIN=$(abspath tests/valgrind/loupe-valgrind.sh) \
		LOUPE_WEB_DIR=$(abspath $(WEB_OUT)) $(NODE_TEST) $(VALGRIND_TESTS)

# ---- the Debian package (make deb, make deb-test) ---------------------------
# packaging/deb/build.sh assembles build/loupe_VERSION_ARCH.deb with dpkg-deb
# from the release binary (stripped) and packaging/deb/: a hardened systemd
# unit running as the loupe system user with its data in /var/lib/loupe,
# /etc/default/loupe, the manual page, copyright, changelog and maintainer
# scripts; Depends from dpkg-shlibdeps. VERSION is `build/loupe --version`.
# deb-test (root) runs lintian (no errors or warnings allowed; the
# remaining informational tags are listed in packaging/deb/README.md), then
# tests/package/deb.test.mjs: dpkg -i, the unit's ExecStart as its user,
# telemetry in and out, SIGTERM, dpkg --remove and --purge.
deb: $(BUILD)/loupe
	@if [ "$(TESTING)" = 1 ] || [ -n "$(SANITIZE)" ]; then \
		echo "deb: the package holds the release build (no TESTING=1 or SANITIZE)"; exit 1; fi
	@packaging/deb/build.sh $(BUILD)/loupe build

deb-test: deps-test
	@$(MAKE) --no-print-directory deb
	@deb=build/loupe_$$($(BUILD)/loupe --version | awk '{print $$2}')_$$(dpkg --print-architecture).deb; \
	echo "lintian $$deb"; lintian --fail-on error,warning --display-info $$deb && \
	LOUPE_DEB=$$PWD/$$deb $(NODE_TEST) tests/package/deb.test.mjs

# ---- the container image, built and run with podman (make container-test) ---
# The Dockerfile builds on Debian 12 and copies the stripped binary, the
# libraries it links and the loader into a scratch image. Here it is built
# with podman on a Debian 12 base made with debootstrap from this machine's
# apt mirror (make container-base: build/container/base.tar, kept as a
# cache, imported as $(CONTAINER_BASE)). npm ci in the build gets the CA
# bundle $(NPM_CA) as a build secret, for a TLS-intercepting proxy.
# container-test checks the image's files against the binary's needs and
# ldd (tests/container/check.sh, which must also fail for a tree without a
# library or with an extra one), then runs tests/container/container.test.mjs:
# telemetry in, data out, health check, podman stop, restart on the volume.
# runc, host networking and explicit ulimits suit this machine (crun fails
# on its cgroups; raising rlimits is refused).
CONTAINER_RUNTIME ?= runc
CONTAINER_BASE ?= localhost/loupe-debian:12
CONTAINER_IMAGE ?= localhost/loupe:latest
NPM_CA ?= $(or $(NODE_EXTRA_CA_CERTS),/etc/ssl/certs/ca-certificates.crt)
PODMAN := podman --runtime $(CONTAINER_RUNTIME)
PODMAN_LIMITS := --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
CDIR := build/container

container-base:
	@packaging/container/base.sh $(CDIR)/base.tar $(CONTAINER_BASE)

# The build's output goes to $(CDIR)/build.log (its tail is shown on failure).
container: container-base
	@mkdir -p $(CDIR)
	@echo "container: building $(CONTAINER_IMAGE) (log: $(CDIR)/build.log)"
	@start=$$(date +%s); \
	if ! $(PODMAN) build --format docker --network host --pull=never $(PODMAN_LIMITS) \
		--build-arg BASE=$(CONTAINER_BASE) \
		$(if $(wildcard $(NPM_CA)),--secret id=npm_ca$(comma)src=$(NPM_CA)) \
		-t $(CONTAINER_IMAGE) . >$(CDIR)/build.log 2>&1; then \
		tail -n 40 $(CDIR)/build.log; echo "container: build failed"; exit 1; fi; \
	echo "container: built in $$(( $$(date +%s) - start )) s," \
		"$$($(PODMAN) image inspect -f '{{.Size}}' $(CONTAINER_IMAGE)) bytes"

container-check: $(BUILD)/loupe
	@rm -rf $(CDIR)/image $(CDIR)/broken && mkdir -p $(CDIR)/image
	@id=$$($(PODMAN) create $(CONTAINER_IMAGE) 2>/dev/null) && \
		$(PODMAN) export $$id | tar -x -C $(CDIR)/image; rc=$$?; \
		$(PODMAN) rm -v $$id >/dev/null 2>&1; exit $$rc
	tests/container/check.sh $(CDIR)/image $(BUILD)/loupe
	@cp -a $(CDIR)/image $(CDIR)/broken && rm $(CDIR)/broken/lib/x86_64-linux-gnu/libjansson.so.4
	@if tests/container/check.sh $(CDIR)/broken >/dev/null 2>&1; then \
		echo "container-check: a tree without libjansson passed"; exit 1; fi
	@cp $(CDIR)/image/lib/x86_64-linux-gnu/libjansson.so.4 $(CDIR)/broken/lib/libextra.so.1 && \
		cp $(CDIR)/image/lib/x86_64-linux-gnu/libjansson.so.4 $(CDIR)/broken/lib/x86_64-linux-gnu/
	@if tests/container/check.sh $(CDIR)/broken >/dev/null 2>&1; then \
		echo "container-check: a tree with an extra library passed"; exit 1; fi
	@rm -rf $(CDIR)/broken

container-test: deps-test
	@$(MAKE) --no-print-directory all container
	@$(MAKE) --no-print-directory container-check
	LOUPE_IMAGE=$(CONTAINER_IMAGE) LOUPE_CONTAINER_RUNTIME=$(CONTAINER_RUNTIME) \
		$(NODE_TEST) tests/container/container.test.mjs

# The Debian package under a real systemd (PID 1 of a podman container on
# the same Debian 12 base): systemctl enable --now applies the unit's
# sandbox; tests/package/deb_systemd.test.mjs checks it, the data, a
# restart, and dpkg --purge.
deb-systemd-test: deps-test
	@$(MAKE) --no-print-directory deb container-base
	@deb=build/loupe_$$($(BUILD)/loupe --version | awk '{print $$2}')_$$(dpkg --print-architecture).deb; \
	LOUPE_DEB=$$PWD/$$deb LOUPE_BASE_IMAGE=$(CONTAINER_BASE) LOUPE_CONTAINER_RUNTIME=$(CONTAINER_RUNTIME) \
		$(NODE_TEST) tests/package/deb_systemd.test.mjs

# ---- entry points ---------------------------------------------------------
deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/loupe $(ARGS)

test: deps-test
	@$(MAKE) --no-print-directory TESTING=0 all
	@$(MAKE) --no-print-directory all unit-tests
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-interop
	@$(MAKE) --no-print-directory test-clickhouse
	@$(MAKE) --no-print-directory test-browser

# Under ASan + UBSan: the unit tests, the fuzz replay, every interop test,
# and the browser tests that drive server paths of their own (login and
# cookies, live streams, partial answers, the proxy path, clearing, and
# every page's API calls in offline); the other browser tests check the
# page's own behaviour against the same endpoints, which the plain run covers.
ASAN_BROWSER ?= auth live partial proxy empty-and-clear offline
asan: deps-test
	@$(MAKE) --no-print-directory SANITIZE=address,undefined TESTING=0 all
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all unit-tests
	@$(MAKE) --no-print-directory SANITIZE=address,undefined test-unit
	@$(MAKE) --no-print-directory SANITIZE=address,undefined test-interop
	@$(MAKE) --no-print-directory SANITIZE=address,undefined test-browser \
		BROWSER_TESTS="$(patsubst %,tests/browser/%.test.mjs,$(ASAN_BROWSER))"

# Ingest benchmarks (scripts/bench.sh; BENCH_SECONDS, BENCH_CAP_SECONDS, see
# docs/benchmarks.md), and a check of their tooling cheap enough for CI.
# With clickhouse-server installed, make bench ends with bench-clickhouse's run.
CLICKHOUSE_SERVER ?= /usr/sbin/clickhouse-server
bench: deps-test
	@$(MAKE) --no-print-directory all $(BUILD)/bench/loadgen $(BUILD)/bench/bench_raw
	@scripts/bench.sh $(BUILD)/loupe
	@if [ -x $(CLICKHOUSE_SERVER) ]; then CLICKHOUSE_SERVER=$(CLICKHOUSE_SERVER) tests/bench/bench_clickhouse.sh $(BUILD)/loupe $(BUILD)/bench/loadgen; else echo "bench: $(CLICKHOUSE_SERVER) not installed, ClickHouse part skipped"; fi

# The ingest inspector on and off under the same load (scripts/bench_inspector.sh;
# BENCH_SECONDS, BENCH_ROUNDS, BENCH_ITEMS, see docs/benchmarks.md).
bench-inspector: deps-test
	@$(MAKE) --no-print-directory all $(BUILD)/bench/loadgen
	@scripts/bench_inspector.sh $(BUILD)/loupe

bench-smoke:
	@$(MAKE) --no-print-directory all $(BUILD)/bench/loadgen
	@tests/bench/smoke.sh $(BUILD)/loupe $(BUILD)/bench/loadgen

# loupe on ClickHouse beside SQLite: ingest, alternated, then a database filled
# to BENCH_CH_SPANS spans and query latencies on it (tests/bench/bench_clickhouse.sh,
# which starts its own clickhouse-server; docs/benchmarks.md).
bench-clickhouse:
	@$(MAKE) --no-print-directory all $(BUILD)/bench/loadgen
	@CLICKHOUSE_SERVER=$(CLICKHOUSE_SERVER) tests/bench/bench_clickhouse.sh $(BUILD)/loupe $(BUILD)/bench/loadgen

# What the instrumentation lint costs at ingest: --lint on vs off, alternated
# (tests/bench/onoff_overhead.sh; docs/benchmarks.md).
bench-lint:
	@$(MAKE) --no-print-directory all $(BUILD)/bench/loadgen
	@tests/bench/onoff_overhead.sh $(BUILD)/loupe $(BUILD)/bench/loadgen

# What log patterns cost at log ingest: --log-patterns on vs off, alternated,
# CPU per record of the whole process (patterns are made on the receiving
# threads).
bench-patterns:
	@$(MAKE) --no-print-directory all $(BUILD)/bench/loadgen
	@ONOFF_FLAG=--log-patterns ONOFF_THREAD= LINT_BENCH_SIGNALS=logs \
		tests/bench/onoff_overhead.sh $(BUILD)/loupe $(BUILD)/bench/loadgen

lint:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\(' \
		$$(find util server storage tests/unit tests/fuzz -name '*.[ch]') || \
		{ echo "lint: banned function (see STYLE)"; exit 1; }
	@scripts/lint-includes.sh
	@echo "lint: ok"

format:
	clang-format -i $$(find util server storage tests/unit scripts -name '*.[ch]')

clean:
	rm -rf build

.PHONY: all run test test-unit test-interop test-clickhouse test-browser unit-tests deps deps-test asan bench bench-clickhouse bench-smoke bench-lint bench-patterns bench-decode bench-query bench-inspector lint \
        format clean tsan tsan-run valgrind deb deb-test \
        container-base container container-check container-test deb-systemd-test

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(BUILD)/tests -name '*.d' 2>/dev/null)

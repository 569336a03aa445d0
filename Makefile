# loupe - a standalone OpenTelemetry dashboard server.
#
#   make            build build/loupe
#   make run        install missing packages, build, run with data in ./loupe-data
#   make test       install missing packages, build, run the whole test suite
#   make test-unit  C unit tests only          make test-interop  Node tests only
#   make test-browser  the web UI in headless Chromium
#   make asan       the whole suite under AddressSanitizer + UBSan
#   make bench      benchmarks (see docs/benchmarks.md)
#   make lint       banned functions and static checks     make format
#
# Variables: SANITIZE=address,undefined builds into build/san-*;
# CFLAGS_EXTRA=-Werror (CI); CC=clang.

.DEFAULT_GOAL := all
CC ?= cc
PKGS := libmicrohttpd libnghttp2 libprotobuf-c sqlite3 zlib jansson
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
ifeq ($(SANITIZE),)
BUILD ?= build
SAN_FLAGS :=
else
BUILD ?= build/san-$(subst $(comma),-,$(SANITIZE))
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

GEN := $(BUILD)/gen
WARN := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wundef -Wwrite-strings -Wvla
OPT ?= -O2 -g
CPPFLAGS_ALL := -D_GNU_SOURCE -Iserver -Iserver/util -Istorage -I$(GEN) $(CPPFLAGS)
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
# $(BUILD)/web (content-hashed names, uPlot from node_modules).
WEB_FILES := $(shell find web -type f ! -name '*.md' | sort)
WEB_OUT := $(BUILD)/web
$(BUILD)/tools/embed: scripts/embed.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -std=c11 -O1 -Wall -Wextra -o $@ $< -lz

$(WEB_OUT)/index.html: $(WEB_FILES) scripts/build-web.mjs package-lock.json
	@test -f node_modules/uplot/dist/uPlot.iife.min.js || \
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(call say,WEB,$(WEB_OUT))
	$(Q)node scripts/build-web.mjs web $(WEB_OUT)

$(GEN)/web_assets.c: $(BUILD)/tools/embed $(WEB_OUT)/index.html
	@mkdir -p $(GEN)
	$(call say,EMBED,$@)
	$(Q)$(BUILD)/tools/embed $(WEB_OUT) $@ $$(find $(WEB_OUT) -type f | sort)

# ---- the library and the binary ------------------------------------------
LIB_SRC := $(sort $(wildcard server/util/*.c storage/*.c server/*.c))
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

test-unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
		echo "== $$t"; CK_DEFAULT_TIMEOUT=60 $$t || fail=1; done; \
	exit $$fail

# ---- micro-benchmarks (programs, not tests) -------------------------------
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libloupe.a
	@mkdir -p $(dir $@)
	$(call say,BENCH,$@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(PKG_CFLAGS) $(CFLAGS_ALL) -o $@ $< \
		$(BUILD)/libloupe.a $(PKG_LIBS) $(LDLIBS_ALL)

bench-decode: $(BUILD)/bench/bench_decode
	./$(BUILD)/bench/bench_decode

# ---- Node tests (interop with the official exporters, HTTP edge cases) ----
INTEROP_TESTS := $(sort $(shell find tests/interop -name '*.test.mjs' 2>/dev/null))
test-interop: $(BUILD)/loupe
	LOUPE_BIN=$(abspath $(BUILD)/loupe) LOUPE_WEB_DIR=$(abspath $(WEB_OUT)) \
		node --test --test-concurrency=1 $(INTEROP_TESTS)

# ---- browser tests (headless Chromium from Debian, playwright-core) -------
BROWSER_TESTS := $(sort $(shell find tests/browser -name '*.test.mjs' 2>/dev/null))
test-browser: $(BUILD)/loupe
	LOUPE_BIN=$(abspath $(BUILD)/loupe) node --test --test-concurrency=1 $(BROWSER_TESTS)

# ---- entry points ---------------------------------------------------------
deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/loupe $(ARGS)

test: deps-test
	@$(MAKE) --no-print-directory all unit-tests
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-interop
	@$(MAKE) --no-print-directory test-browser

asan:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined test

bench: deps-test
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh $(BUILD)/loupe

lint:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\(' \
		$$(find server storage tests/unit -name '*.[ch]') || \
		{ echo "lint: banned function (see STYLE)"; exit 1; }
	@echo "lint: ok"

format:
	clang-format -i $$(find server storage tests/unit scripts -name '*.[ch]')

clean:
	rm -rf build

.PHONY: all run test test-unit test-interop test-browser unit-tests deps deps-test asan bench bench-decode lint \
        format clean

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(BUILD)/tests -name '*.d' 2>/dev/null)

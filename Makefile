# flowmaster: one non-recursive Makefile; everything built lands in build/.
# `make help` lists the targets; V=1 shows the commands.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# -mcpu=v3: atomic fetch-and-add (doorbell) and 32-bit jumps.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	      -Ivmlinux -Ibpf -Wall -Werror -MMD -MP

CFLAGS   := -std=gnu11 -g -Wall -Wextra -Werror -MMD -MP -I$(BUILD) -I. -Iuser \
	    -DFM_VERSION='"$(VERSION)"'
LDFLAGS  :=
LDLIBS   := -lbpf -lelf -lz -lsqlite3 -lpthread -lm
ifeq ($(SAN),1)
CFLAGS   += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
else
CFLAGS   += -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDFLAGS  += -pie -Wl,-z,relro,-z,now
endif

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS      := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
USER_SRCS  := $(wildcard user/*.c user/*/*.c)
USER_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(USER_SRCS))
LIB_OBJS   := $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
TEST_SRCS  := $(wildcard tests/unit/test_*.c tests/bpf/test_*.c)
TEST_BINS  := $(patsubst %.c,$(BUILD)/%,$(TEST_SRCS))
TEST_HELP  := $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(TEST_SRCS),$(wildcard tests/bpf/*.c)))
BENCH_SRCS := $(wildcard tools/bench/*.c)
BENCH_BINS := $(patsubst tools/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
DEPS_OK    := $(BUILD)/.deps-ok

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all help test test-c bench-quick bench demo vmlinux clean deps
.DEFAULT_GOAL := all

all: $(BUILD)/flowmaster

help:
	@echo 'make            build build/flowmaster (installs missing packages first)'
	@echo 'make test       build and run every test suite (root runs BPF and netns suites)'
	@echo 'make test-c     only the C suites (unit, BPF); with SAN=1 under ASan/UBSan'
	@echo 'make bench      all benchmarks, writes BENCHMARKS.md (root, ~15 min)'
	@echo 'make bench-quick the same, reduced (about 2 min)'
	@echo 'make demo       test hosts in namespaces, real traffic, flows in demo.db (root)'
	@echo 'make vmlinux    regenerate vmlinux/vmlinux.h from this kernel'"'"'s BTF'
	@echo 'make clean      remove build/'
	@echo 'make fuzz       the BPF parser fuzz (FUZZ_FRAMES, 5M) and each libFuzzer target (FUZZ_SECONDS, 60)'
	@echo 'make fuzz-quick each libFuzzer target for 30 s (CI)'
	@echo 'make valgrind   the unit suites under valgrind'
	@echo 'options: V=1 (show commands), SAN=1 (ASan+UBSan userspace)'

# Install what a fresh Debian machine lacks, once; the script is idempotent.
$(DEPS_OK): tools/install-deps.sh
	$(Q)tools/install-deps.sh
	$(Q)mkdir -p $(@D) && touch $@
deps: $(DEPS_OK)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(DEPS_OK)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MT $@ -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(BUILD)/%.o: %.c | $(SKELS) $(DEPS_OK)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libfm.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/flowmaster: $(BUILD)/user/main.o $(BUILD)/libfm.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELP) $(BUILD)/libfm.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $(filter %.o %.a,$^) $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/tools/bench/%.o $(BUILD)/tests/bpf/frames.o $(BUILD)/libfm.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

test: $(BUILD)/flowmaster $(TEST_BINS)
	$(Q)BUILD=$(BUILD) tools/run-tests.sh

# The C suites only (CI runs these again with SAN=1).
test-c: $(BUILD)/flowmaster $(TEST_BINS)
	$(Q)BUILD=$(BUILD) SUITES="unit bpf" tools/run-tests.sh

bench: $(BUILD)/flowmaster $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) tools/bench.sh

bench-quick: $(BUILD)/flowmaster $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) tools/bench.sh --quick

demo: $(BUILD)/flowmaster
	$(Q)BUILD=$(BUILD) tools/demo.sh

vmlinux: | $(DEPS_OK)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.tmp
	mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

clean:
	rm -rf $(BUILD)

# ---- fuzzing and valgrind (tests/bpf/test_fuzz.c, tests/fuzz/, tools/fuzz.sh) ----
# libFuzzer targets: each tests/fuzz/fuzz_*.c linked with the user/ sources
# it exercises, all built by clang with coverage, ASan and UBSan (separate
# objects under $(BUILD)/fuzz/, not the gcc ones). Needs libclang-rt-14-dev.
# `make fuzz`: the parser fuzz through BPF_PROG_TEST_RUN with FUZZ_FRAMES
# frames (root), then each target for FUZZ_SECONDS; `make fuzz-quick` (CI):
# each target for FUZZ_QUICK_SECONDS. `make valgrind`: the unit suites
# under valgrind (memcheck, leaks), not with SAN=1.
FUZZ_FRAMES        ?= 5000000
FUZZ_SECONDS       ?= 60
FUZZ_QUICK_SECONDS ?= 30
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS   := -std=gnu11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror -MMD -MP \
		 -I$(BUILD) -I. -Iuser $(FUZZ_SAN)
FUZZ_SRCS     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS     := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS := $(patsubst %,$(BUILD)/fuzz/obj/user/%.o,lib/args table/flowtab kernel/drain kernel/loader kernel/attach lib/log lib/opts cli/run_opts daemon/sizing)
FUZZ_OBJS     := $(FUZZ_LIB_OBJS) $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(FUZZ_SRCS))
VALGRIND_BINS := $(filter $(BUILD)/tests/unit/%,$(TEST_BINS))

.PHONY: fuzz fuzz-quick fuzz-build valgrind

# user/ code gets coverage instrumentation too: that is what is fuzzed.
$(FUZZ_OBJS): $(BUILD)/fuzz/obj/%.o: %.c | $(SKELS) $(DEPS_OK)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BINS): $(BUILD)/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(FUZZ_LIB_OBJS)
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer $(FUZZ_SAN) $^ -lbpf -lelf -lz -o $@

fuzz-build: $(FUZZ_BINS)

fuzz: $(BUILD)/tests/bpf/test_fuzz $(FUZZ_BINS)
	$(Q)FM_FUZZ_FRAMES=$(FUZZ_FRAMES) $(BUILD)/tests/bpf/test_fuzz
	$(Q)BUILD=$(BUILD) tools/fuzz.sh $(FUZZ_SECONDS)

fuzz-quick: $(FUZZ_BINS)
	$(Q)BUILD=$(BUILD) tools/fuzz.sh $(FUZZ_QUICK_SECONDS)

valgrind: $(VALGRIND_BINS)
	$(Q)fail=0; for t in $^; do \
		echo "== valgrind $$t"; \
		valgrind -q --error-exitcode=1 --leak-check=full $$t || fail=1; \
	done; exit $$fail
# ---- end of fuzzing and valgrind ----

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

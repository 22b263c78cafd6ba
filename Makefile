# flowmaster: one non-recursive Makefile; everything built lands in build/.
# `make help` lists the targets; V=1 shows the commands.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
# bpftool lives in /usr/sbin, which an ordinary user's PATH lacks.
BPFTOOL  ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
CLANG_FORMAT ?= clang-format-14
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# tools/version.sh: from git describe (a vX.Y.Z tag), else the file VERSION.
VERSION  := $(shell tools/version.sh)
# Where `make install` puts things (DESTDIR is prepended to each); the
# binary reads SYSCONFDIR/flowmaster/flowmaster.conf when --config is not given.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc

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

CFLAGS   := -std=gnu11 -g -Wall -Wextra -Werror -MMD -MP -I$(BUILD) -I. -Iuser
LDFLAGS  :=
LDLIBS   := -lbpf -lelf -lz -lsqlite3 -lpthread -lm -lpcap -lmicrohttpd
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
# The web view's pages and scripts, embedded as C arrays (user/web/assets.h).
WEB_ASSETS := $(sort $(wildcard user/web/assets/*)) user/web/vendor/uplot/uPlot.iife.min.js \
	      user/web/vendor/uplot/uPlot.min.css
LIB_OBJS   += $(BUILD)/gen/web_assets.o
TEST_SRCS  := $(wildcard tests/unit/test_*.c tests/bpf/test_*.c)
TEST_BINS  := $(patsubst %.c,$(BUILD)/%,$(TEST_SRCS))
TEST_HELP  := $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(TEST_SRCS),$(wildcard tests/bpf/*.c)))
BENCH_SRCS := $(wildcard tools/bench/*.c)
BENCH_BINS := $(patsubst tools/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
# What several benches share (the raw SQLite loop): linked into each.
BENCH_COMMON := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/bench/common/*.c))
DEPS_BUILD := $(BUILD)/.deps-build
# What `make format` and `make format-check` cover (vmlinux/ is generated).
FORMAT_SRCS := $(wildcard bpf/*.[ch] user/*.[ch] user/*/*.[ch] tests/*.[ch] tests/*/*.[ch] \
		 tools/bench/*.c tools/bench/common/*.[ch])
# Every shell script: by name, and anything else that starts with a bash shebang.
SHELL_SRCS := $(sort $(wildcard tools/*.sh tools/*/*.sh tests/*/*.sh) .ci/run \
		$(shell grep -rlIE '^\#!(/usr)?/bin/(env )?(ba)?sh' tools tests .ci 2>/dev/null))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all help test test-browser test-c bench-quick bench demo vmlinux clean deps format format-check shellcheck FORCE
.DEFAULT_GOAL := all

all: $(BUILD)/flowmaster

help:
	@echo 'make            build build/flowmaster (any user; says which packages are missing)'
	@echo 'make test       build and run every test suite (root: installs what is missing, runs BPF and netns suites)'
	@echo 'make test-browser the web view'"'"'s pages in headless Chromium (root, ~45 s)'
	@echo 'make test-c     only the C suites (unit, BPF); with SAN=1 under ASan/UBSan'
	@echo 'make test-kernel the BPF and netns suites in qemu on Debian 12'"'"'s kernel 6.1 (root, ~5-10 min)'
	@echo 'make bench      all benchmarks, writes BENCHMARKS.md (root, ~60 min)'
	@echo 'make bench-quick the same, reduced (a few min)'
	@echo 'make demo       test hosts in namespaces, real traffic, flows in demo.db (root)'
	@echo 'make vmlinux    regenerate vmlinux/vmlinux.h from this kernel'"'"'s BTF'
	@echo 'make clean      remove build/'
	@echo 'make install    binary, man page, systemd unit, config, licence (PREFIX=/usr/local, DESTDIR)'
	@echo 'make uninstall  remove them (a changed config is kept)'
	@echo 'make deb        build the Debian package in build/deb and check it (lintian, contents)'
	@echo 'make fuzz       the BPF parser fuzz (FUZZ_FRAMES, 5M) and each libFuzzer target (FUZZ_SECONDS, 60)'
	@echo 'make fuzz-quick each libFuzzer target for 30 s (CI)'
	@echo 'make valgrind   the unit suites under valgrind'
	@echo 'make shellcheck shellcheck on every shell script'
	@echo 'make format     format the C sources with .clang-format (clang-format 14)'
	@echo 'make format-check fail if a C source differs from .clang-format'
	@echo 'options: V=1 (show commands), SAN=1 (ASan+UBSan userspace)'

# Packages, in the sets of tools/install-deps.sh; each set is checked once
# per build directory (a stamp). `make` and the other targets only check
# and, when something is missing, print the apt-get line and stop: building
# needs no root. make test, demo and bench (which need root anyway) install
# the missing packages of their sets when run as root.
DEPS_INSTALL_GOALS := test demo bench bench-quick deb test-kernel
DEPS_MODE := $(if $(filter $(DEPS_INSTALL_GOALS),$(MAKECMDGOALS)),,--check)
$(DEPS_BUILD): tools/install-deps.sh
	$(Q)tools/install-deps.sh $(DEPS_MODE) build
	$(Q)mkdir -p $(@D) && touch $@
# The other sets after the build set: one apt-get at a time.
$(BUILD)/.deps-%: tools/install-deps.sh | $(DEPS_BUILD)
	$(Q)tools/install-deps.sh $(DEPS_MODE) $*
	$(Q)touch $@
deps: $(DEPS_BUILD)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(DEPS_BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MT $@ -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# The version and the default config path, in $(BUILD)/version.h: rewritten
# only when they change, so that only what includes it is rebuilt then.
$(BUILD)/version.h: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)printf '#define FM_VERSION "%s"\n#define FM_CONFIG_DEFAULT "%s"\n' \
		'$(VERSION)' '$(SYSCONFDIR)/flowmaster/flowmaster.conf' >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/%.o: %.c | $(SKELS) $(DEPS_BUILD) $(BUILD)/version.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/gen/web_assets.c: $(WEB_ASSETS) tools/embed-assets.sh
	$(call msg,EMBED,$@)
	$(Q)mkdir -p $(@D)
	$(Q)tools/embed-assets.sh $@ $(WEB_ASSETS)

$(BUILD)/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	$(call msg,CC,$@)
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

$(BUILD)/bench/%: $(BUILD)/tools/bench/%.o $(BENCH_COMMON) $(BUILD)/tests/bpf/frames.o $(BUILD)/libfm.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

test: $(BUILD)/.deps-test $(BUILD)/flowmaster $(TEST_BINS)
	$(Q)BUILD=$(BUILD) tools/run-tests.sh

# The web view's pages in headless Chromium (about 45 s; root).
# WEB_SCREENSHOT_DIR=docs keeps the screenshots.
test-browser: $(BUILD)/.deps-test $(BUILD)/flowmaster
	$(Q)BUILD=$(BUILD) bash tests/netns/test-web.sh browser_pages

# The BPF and netns suites inside qemu on Debian 12's own kernel (6.1,
# linux-image-amd64, downloaded into $(BUILD)/kernel, not installed); not
# part of make test. KERNEL_TESTS: run-tests.sh filters; KERNEL_TESTS= runs
# every BPF and netns suite (slow: the guest is emulated, see the script).
KERNEL_TESTS ?= build/tests/bpf test-daemon.sh test-egress.sh
.PHONY: test-kernel
test-kernel: $(BUILD)/.deps-test $(BUILD)/.deps-kernel $(BUILD)/flowmaster $(TEST_BINS)
	$(Q)BUILD=$(BUILD) tools/test-kernel.sh $(KERNEL_TESTS)

# The C suites only (CI runs these again with SAN=1).
test-c: $(BUILD)/flowmaster $(TEST_BINS)
	$(Q)BUILD=$(BUILD) SUITES="unit bpf" tools/run-tests.sh

bench: $(BUILD)/.deps-bench $(BUILD)/flowmaster $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) tools/bench.sh

bench-quick: $(BUILD)/.deps-bench $(BUILD)/flowmaster $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) tools/bench.sh --quick

demo: $(BUILD)/.deps-demo $(BUILD)/flowmaster
	$(Q)BUILD=$(BUILD) tools/demo.sh

vmlinux: | $(DEPS_BUILD)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.tmp
	mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

clean:
	rm -rf $(BUILD)

# ---- install: make install / uninstall (PREFIX, DESTDIR) ----
# The binary, the man page (with the version), the systemd unit (with these
# paths), the default config (never overwriting one that is there) and the
# licence. The Debian package (debian/rules) installs the same way.
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/flowmaster
UNITDIR ?= $(PREFIX)/lib/systemd/system
CONFDIR := $(SYSCONFDIR)/flowmaster
INSTALLED := $(SBINDIR)/flowmaster $(MANDIR)/man8/flowmaster.8 $(UNITDIR)/flowmaster.service \
	     $(DOCDIR)/LICENSE $(DOCDIR)/README.md
.PHONY: install uninstall

$(BUILD)/flowmaster.8: flowmaster.8 $(BUILD)/version.h
	$(call msg,GEN,$@)
	$(Q)sed -e '/^\.TH /s/ flowmaster "System/ "flowmaster $(VERSION)" "System/' $< >$@

$(BUILD)/flowmaster.service: dist/flowmaster.service.in Makefile
	$(call msg,GEN,$@)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< >$@

install: $(BUILD)/flowmaster $(BUILD)/flowmaster.8 $(BUILD)/flowmaster.service
	install -D -m 0755 $(BUILD)/flowmaster $(DESTDIR)$(SBINDIR)/flowmaster
	install -D -m 0644 $(BUILD)/flowmaster.8 $(DESTDIR)$(MANDIR)/man8/flowmaster.8
	install -D -m 0644 $(BUILD)/flowmaster.service $(DESTDIR)$(UNITDIR)/flowmaster.service
	install -D -m 0644 LICENSE $(DESTDIR)$(DOCDIR)/LICENSE
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	@if [ -e $(DESTDIR)$(CONFDIR)/flowmaster.conf ]; then \
		echo "kept $(DESTDIR)$(CONFDIR)/flowmaster.conf (new default not installed)"; \
	else \
		echo "install -D -m 0644 dist/flowmaster.conf $(DESTDIR)$(CONFDIR)/flowmaster.conf"; \
		install -D -m 0644 dist/flowmaster.conf $(DESTDIR)$(CONFDIR)/flowmaster.conf; \
	fi

# The config goes only if it is the default as installed: edits are kept.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
	@if cmp -s dist/flowmaster.conf $(DESTDIR)$(CONFDIR)/flowmaster.conf; then \
		echo "rm -f $(DESTDIR)$(CONFDIR)/flowmaster.conf"; \
		rm -f $(DESTDIR)$(CONFDIR)/flowmaster.conf; \
		rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(CONFDIR)/flowmaster.conf ]; then \
		echo "kept $(DESTDIR)$(CONFDIR)/flowmaster.conf: it was changed"; \
	fi

# The Debian package, built from a copy of this tree and checked (lintian,
# its files, versions); not part of `make test` (about a minute).
.PHONY: deb
deb: | $(BUILD)/.deps-deb
	$(Q)tools/deb.sh $(BUILD)/deb
# ---- end of install ----

# ---- checks: shell scripts and C formatting ----
# `make format` rewrites every C source in place (clang-format 14: other
# versions format differently); `make format-check` changes nothing.
shellcheck: | $(BUILD)/.deps-lint
	$(call msg,SHCHECK,$(words $(SHELL_SRCS)) scripts)
	$(Q)shellcheck -x $(SHELL_SRCS)

format: | $(BUILD)/.deps-lint
	$(call msg,FORMAT,$(words $(FORMAT_SRCS)) files)
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_SRCS)

format-check: | $(BUILD)/.deps-lint
	$(call msg,FMTCHECK,$(words $(FORMAT_SRCS)) files)
	$(Q)$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRCS) 2>$(BUILD)/format-check.log || { \
		grep -E '^[^ :]+:[0-9]+:[0-9]+: error' $(BUILD)/format-check.log | cut -d: -f1 | \
			uniq -c | awk '{ printf "  %s: %d places\n", $$2, $$1 }'; \
		echo "format-check: these differ from .clang-format: make format (log: $(BUILD)/format-check.log)"; \
		exit 1; }

# ---- fuzzing and valgrind (tests/bpf/test_fuzz.c, tests/fuzz/, tools/fuzz.sh) ----
# libFuzzer targets: each tests/fuzz/fuzz_*.c linked with the user/ sources
# it exercises, all built by clang with coverage, ASan and UBSan (separate
# objects under $(BUILD)/fuzz/, not the gcc ones). Needs clang's libFuzzer
# runtime (tools/install-deps.sh fuzz).
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
FUZZ_LIB_OBJS := $(patsubst %,$(BUILD)/fuzz/obj/user/%.o,lib/args table/flowtab kernel/drain kernel/loader kernel/attach kernel/tc lib/log lib/opts lib/config cli/run_opts daemon/sizing ipfix/decode lib/hostport web/qs lib/proto)
FUZZ_OBJS     := $(FUZZ_LIB_OBJS) $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(FUZZ_SRCS))
VALGRIND_BINS := $(filter $(BUILD)/tests/unit/%,$(TEST_BINS))

.PHONY: fuzz fuzz-quick fuzz-build valgrind

# user/ code gets coverage instrumentation too: that is what is fuzzed.
$(FUZZ_OBJS): $(BUILD)/fuzz/obj/%.o: %.c | $(SKELS) $(BUILD)/.deps-fuzz $(BUILD)/version.h
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

valgrind: $(VALGRIND_BINS) | $(BUILD)/.deps-valgrind
	$(Q)fail=0; for t in $^; do \
		echo "== valgrind $$t"; \
		valgrind -q --error-exitcode=1 --leak-check=full $$t || fail=1; \
	done; exit $$fail
# ---- end of fuzzing and valgrind ----

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

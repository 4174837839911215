# Hookflash build. `make` builds build/bin/hookflashd and build/bin/hookflash;
# `make run` and `make test` do all set-up on a fresh Debian 12 (as root).
# Three flavours share the sources: build/ (optimised), build/san/
# (AddressSanitizer + UndefinedBehaviorSanitizer) for the tests, and
# build/tsan/ (ThreadSanitizer, `make check-tsan`). HF_DEBUG, in both
# sanitizer flavours only, compiles in the thread-ownership checks
# (loop_assert_owner in core/base/loop.h); the optimised build has none.

-include config.mk

VERSION := 0.1.0
CC ?= cc
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -DHF_VERSION='"$(VERSION)"' -MMD -MP $(DEP_CFLAGS)
OPT_CFLAGS := -O2 -g
# The optimised build (what `make install` ships) is hardened: stack
# protector, FORTIFY (needs -O2), stack-clash probes, CET landing pads, a
# position-independent executable with full RELRO (the GOT read-only after
# start-up). configure writes the ones this compiler accepts into config.mk;
# these are the defaults for a config.mk written before it did. Not in the
# sanitizer or fuzz flavours: FORTIFY's checked functions hide accesses from
# ASan, and those builds are never installed. tests/check-hardening proves
# the flags reached the binaries.
HARDEN_CFLAGS ?= -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fstack-clash-protection -fcf-protection -fPIE
HARDEN_LDFLAGS ?= -pie -Wl,-z,relro,-z,now
OPT_CFLAGS += $(HARDEN_CFLAGS)
OPT_LDFLAGS := $(OPT_CFLAGS) $(HARDEN_LDFLAGS)
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -DHF_DEBUG
TSAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread -DHF_DEBUG

LIB_SRC := $(sort $(wildcard apps/*.c apps/*/*.c core/dialplan/*.c core/base/*.c core/sip/*.c core/sdp/*.c core/media/*.c core/media/*/*.c core/ident/*.c core/reg/*.c core/ctl/*.c core/mail/*.c core/pbx/*.c core/call/*.c core/mwi/*.c db/*.c web/*.c))
DAEMON_SRC := core/main.c core/main_priv.c
CLI_SRC := $(sort $(wildcard core/cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

obj = $(patsubst %.c,$(1)/obj/%.o,$(2))

LIB_OBJ := $(call obj,build,$(LIB_SRC))
SAN_LIB_OBJ := $(call obj,build/san,$(LIB_SRC))
TSAN_LIB_OBJ := $(call obj,build/tsan,$(LIB_SRC))

BINS := build/bin/hookflashd build/bin/hookflash
SAN_BINS := build/san/bin/hookflashd build/san/bin/hookflash
UNIT_BINS := $(patsubst tests/unit/%.c,build/san/tests/%,$(UNIT_SRC))
TSAN_BINS := build/tsan/bin/hookflashd build/tsan/bin/hookflash
TSAN_UNIT_BINS := $(patsubst tests/unit/%.c,build/tsan/tests/%,$(UNIT_SRC))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

DATA_DIR ?= $(CURDIR)/run-data

.PHONY: FORCE all run test unit integration bench fuzz fuzz-build fuzz-merge soak faults install clean deps test-deps check-layers check-tsan tsan
all: config.mk $(BINS)

config.mk:
	./configure

deps:
	./configure --install-deps

test-deps:
	./configure --install-deps --tests

# Objects are rebuilt when the optimised flags change (make tracks files,
# not flags): a binary half built without the hardening would pass for one.
build/.opt-flags: FORCE
	@mkdir -p build
	@echo '$(BASE_CFLAGS) $(OPT_CFLAGS) $(OPT_LDFLAGS)' | cmp -s - $@ || echo '$(BASE_CFLAGS) $(OPT_CFLAGS) $(OPT_LDFLAGS)' >$@
FORCE:

build/obj/%.o: %.c build/.opt-flags
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -c $< -o $@

build/san/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) -c $< -o $@

build/tsan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(TSAN_CFLAGS) -c $< -o $@

build/libhookflash.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/san/libhookflash.a: $(SAN_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/bin/hookflashd: $(call obj,build,$(DAEMON_SRC)) build/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(OPT_LDFLAGS) -o $@ $^ $(DEP_LIBS)

build/bin/hookflash: $(call obj,build,$(CLI_SRC)) build/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(OPT_LDFLAGS) -o $@ $^ $(DEP_LIBS)

build/san/bin/hookflashd: $(call obj,build/san,$(DAEMON_SRC)) build/san/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(DEP_LIBS)

build/san/bin/hookflash: $(call obj,build/san,$(CLI_SRC)) build/san/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(DEP_LIBS)

build/san/tests/%: build/san/obj/tests/unit/%.o build/san/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(DEP_LIBS) $(TEST_LIBS)

# The call-layer tests link tests/unit/call_fakes.c before the library: it
# defines every function of core/media/media.h and the SIP socket back
# ends, so the archive's engine.o, engine_leg.o, transport_udp.o and
# transport_tcp.o are never pulled (a link that pulled one would fail on
# duplicate symbols). Any test that includes call_harness.h gets them; a
# static pattern rule wins over the one above.
CALL_HARNESS_TESTS := $(patsubst tests/unit/%.c,build/san/tests/%,$(shell grep -l '"call_harness.h"' $(UNIT_SRC)))
$(CALL_HARNESS_TESTS): build/san/tests/%: build/san/obj/tests/unit/%.o build/san/obj/tests/unit/call_fakes.o build/san/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(DEP_LIBS) $(TEST_LIBS)
$(patsubst build/san/%,build/tsan/%,$(CALL_HARNESS_TESTS)): build/tsan/tests/%: build/tsan/obj/tests/unit/%.o build/tsan/obj/tests/unit/call_fakes.o build/tsan/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -o $@ $^ $(DEP_LIBS) $(TEST_LIBS)

build/tsan/libhookflash.a: $(TSAN_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/tsan/bin/hookflashd: $(call obj,build/tsan,$(DAEMON_SRC)) build/tsan/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -o $@ $^ $(DEP_LIBS)

build/tsan/bin/hookflash: $(call obj,build/tsan,$(CLI_SRC)) build/tsan/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -o $@ $^ $(DEP_LIBS)

build/tsan/tests/%: build/tsan/obj/tests/unit/%.o build/tsan/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -o $@ $^ $(DEP_LIBS) $(TEST_LIBS)

tsan: $(TSAN_BINS) $(TSAN_UNIT_BINS)

# ThreadSanitizer: every unit test, then a few call and media integration
# tests against the TSan daemon (tests/check-tsan says which and why).
check-tsan: tsan build/bin/hookflash
	@tests/check-tsan

# libFuzzer harnesses (clang): the library is compiled once with fuzzer
# instrumentation, then each harness links against it.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -DHF_VERSION='"$(VERSION)"' -MMD -MP $(DEP_CFLAGS)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/libhookflash.a: $(call obj,build/fuzz,$(LIB_SRC))
	rm -f $@ && ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libhookflash.a
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< build/fuzz/libhookflash.a $(DEP_LIBS)

# fuzz_call and fuzz_ctl drive the call layer through
# tests/unit/call_harness.h, whose fakes (media engine, sockets) are linked
# ahead of the library's; fuzz_api swaps PBKDF2 for a cheap stand-in
build/fuzz/fuzz_call build/fuzz/fuzz_ctl: build/fuzz/%: tests/fuzz/%.c build/fuzz/obj/tests/unit/call_fakes.o build/fuzz/libhookflash.a
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< build/fuzz/obj/tests/unit/call_fakes.o build/fuzz/libhookflash.a $(DEP_LIBS) $(TEST_LIBS)
build/fuzz/fuzz_api: tests/fuzz/fuzz_api.c build/fuzz/libhookflash.a
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -Wl,--wrap=db_pbkdf2_hash,--wrap=db_password_hash -o $@ $< build/fuzz/libhookflash.a $(DEP_LIBS)

# web/static.c embeds the admin UI files and the OpenAPI document with
# .incbin: rebuild it when they change
build/obj/web/static.o build/san/obj/web/static.o build/tsan/obj/web/static.o build/fuzz/obj/web/static.o: $(wildcard web/static/*) web/openapi.json

fuzz-build: $(FUZZ_BINS)

# Runs every harness, one at a time and niced, for FUZZ_RUNS executions
# (10^7: issue 16's bar) over its seed corpus, with UBSan aborting on the
# first report (-fno-sanitize-recover above) and ASan on; the final stats
# (execs, exec/s) and the last cov/ft line go to build/fuzz/log-NAME.txt.
# FUZZ=fuzz_call runs one. fuzz-merge minimises the corpus found back into
# tests/fuzz/seeds/NAME (-merge=1). The reproducers of crashes found are
# in tests/fuzz/crashes/ (run one: build/fuzz/fuzz_call FILE).
FUZZ_RUNS ?= 10000000
FUZZ ?= $(notdir $(FUZZ_BINS))
fuzz: fuzz-build
	@for n in $(FUZZ); do f=build/fuzz/$$n; mkdir -p build/fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_RUNS) runs)"; \
	  nice -n 19 $$f -runs=$(FUZZ_RUNS) -max_len=70000 -print_final_stats=1 \
	    build/fuzz/corpus-$$n tests/fuzz/seeds/$${n#fuzz_} > build/fuzz/log-$$n.txt 2>&1 \
	    || { tail -50 build/fuzz/log-$$n.txt; exit 1; }; \
	  grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' build/fuzz/log-$$n.txt | tail -1; \
	  grep -E 'stat::(number_of_executed_units|average_exec_per_sec|peak_rss)' build/fuzz/log-$$n.txt; \
	done

# Not in make test: an hour at 80% of the measured call rate (SOAK_SECONDS)
soak: all
	tests/soak/run

# SIGKILL under load, full disk, read-only database, web port taken, a
# stalled media worker: one PASS/FAIL line each
faults: all $(SAN_BINS)
	tests/faults/run

fuzz-merge: fuzz-build
	@for n in $(FUZZ); do s=tests/fuzz/seeds/$${n#fuzz_}; rm -rf $$s.new; mkdir -p $$s.new; \
	  nice -n 19 build/fuzz/$$n -merge=1 $$s.new $$s build/fuzz/corpus-$$n >/dev/null 2>&1 \
	    && rm -rf $$s && mv $$s.new $$s && echo "$$s: $$(ls $$s | wc -l) files"; done

# `make run` as root runs the daemon as the service user, as installed:
# the user is created when missing and given the data directory. When
# that user cannot reach DATA_DIR (a checkout under /root, mode 0700) the
# daemon stays root for this development run and says so. HOOKFLASHD_ARGS
# adds flags, e.g. HOOKFLASHD_ARGS="--sip-port 5070 --https-port 9443".
SERVICE_USER := hookflash
HOOKFLASHD_ARGS ?=
run:
	@./configure --install-deps >/dev/null || ./configure --install-deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(DATA_DIR)
	@user=; if [ "$$(id -u)" = 0 ]; then \
	  id -u $(SERVICE_USER) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin $(SERVICE_USER) || exit 1; \
	  if runuser -u $(SERVICE_USER) -- test -x "$$(dirname '$(DATA_DIR)')"; then chown -R $(SERVICE_USER): '$(DATA_DIR)'; \
	  else user="--user root"; echo "make run: user $(SERVICE_USER) cannot reach $(DATA_DIR) (a directory above it is private), so hookflashd stays root for this run; make install runs it as $(SERVICE_USER)"; fi; \
	fi; \
	echo "build/bin/hookflashd --data-dir $(DATA_DIR) $$user $(HOOKFLASHD_ARGS)"; \
	exec build/bin/hookflashd --data-dir '$(DATA_DIR)' $$user $(HOOKFLASHD_ARGS)

unit: $(UNIT_BINS)

# Fails on an #include that points upward between modules (the allowed
# edges are data in the script); --graph prints module -> module counts.
check-layers:
	@python3 tests/check_layers.py
integration: $(BINS) $(SAN_BINS)

test:
	@./configure --install-deps --tests >/dev/null || ./configure --install-deps --tests
	@$(MAKE) -j$$(nproc) --no-print-directory all $(SAN_BINS) $(UNIT_BINS) $(FUZZ_BINS) tsan
	@tests/run-all

# Media benchmarks linked against the optimised library.
build/bench/%: tests/bench/%.c build/libhookflash.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(OPT_LDFLAGS) -o $@ $< build/libhookflash.a $(DEP_LIBS)

bench: all build/bench/transcode_bench build/bench/codec_bench build/bench/vm_bench
	@./configure --install-deps --tests >/dev/null || ./configure --install-deps --tests
	-@tests/bench/run
	@tests/bench/calls
	@echo "== codecs: CPU per 20 ms frame (tests/bench/codec_bench.c)"
	@build/bench/codec_bench
	@echo "== transcoding (tests/bench/transcode_bench.c), default settings (SILK; CELT above 70% of a core)"
	@build/bench/transcode_bench 10 100 200 300
	@echo "== transcoding, SILK always ([calls] opus_low_cpu_above = 0)"
	@HF_OPUS_AUTO=0 build/bench/transcode_bench 10 100 200
	@echo "== transcoding, CELT always (--opus-low-cpu)"
	@HF_OPUS_LOW_CPU=1 build/bench/transcode_bench 10 100 300
	@echo "== transcoding, default settings, the opus phone ignoring maxplaybackrate=8000 (sends fullband)"
	@HF_PHONE_FULLBAND=1 build/bench/transcode_bench 10 100 300
	@echo "== voicemail: simultaneous deposits (PCMU recorded to WAV) on one media worker (tests/bench/vm_bench.c)"
	@build/bench/vm_bench 10 100 250 500

# Installs the binaries, the settings file and the systemd unit; on the
# machine itself (no DESTDIR) also creates the service user and its data
# directory, and gives it the files an older, root-run version left.
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/hookflash $(DESTDIR)/var/lib/hookflash
	install -m 0755 build/bin/hookflashd $(DESTDIR)$(PREFIX)/sbin/hookflashd
	install -m 0755 build/bin/hookflash $(DESTDIR)$(PREFIX)/bin/hookflash
	test -e $(DESTDIR)/etc/hookflash/hookflash.conf || install -m 0640 hookflash.conf.example $(DESTDIR)/etc/hookflash/hookflash.conf
	install -d $(DESTDIR)/etc/systemd/system
	sed 's|@PREFIX@|$(PREFIX)|g' hookflashd.service.in > $(DESTDIR)/etc/systemd/system/hookflashd.service
	@if [ -z "$(DESTDIR)" ]; then \
	  id -u $(SERVICE_USER) >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/lib/hookflash --shell /usr/sbin/nologin $(SERVICE_USER) || exit 1; \
	  echo "chown -R $(SERVICE_USER): /var/lib/hookflash; chgrp $(SERVICE_USER) /etc/hookflash/hookflash.conf"; \
	  chown -R $(SERVICE_USER): /var/lib/hookflash && chmod 0750 /var/lib/hookflash && chgrp $(SERVICE_USER) /etc/hookflash/hookflash.conf || exit 1; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

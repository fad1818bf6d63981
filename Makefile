# autodisc: the two set-up commands are `make demo` and `make test`.
BUILD_DIR ?= build
PRESET_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: deps build demo test test-plain bench clean format asan tsan

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(PRESET_FLAGS) >/dev/null

build: deps $(BUILD_DIR)/build.ninja
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# STORE=directory: the demo on a throwaway slapd instead of SQLite.
demo: build
	@AUTODISC_DEMO_STORE=$(STORE) scripts/demo.sh $(BUILD_DIR)/autodisc

# The fuzzers first (a bounded, repeatable run of each: scripts/fuzz.sh), then every test, then every
# test again built with ASan and UBSan, then the service's concurrency tests with TSan.
test: test-plain asan tsan

# The fuzzers and every test of the ordinary build only (quicker, for working on the code).
test-plain: build
	@scripts/fuzz.sh 100000
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@scripts/bench.sh $(BUILD_DIR)

asan: deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAUTODISC_SANITIZE=address,undefined -DAUTODISC_BUILD_BENCH=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS) --timeout 900

tsan: build
	@scripts/tsan.sh $(BUILD_DIR)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	@rm -rf $(BUILD_DIR) build-asan build-fuzz build-tsan

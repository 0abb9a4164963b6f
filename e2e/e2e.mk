# End-to-end suite and fuzzing (included by the Makefile).
#
#   make e2e     the real bootstraps under the Lambda Runtime API harness,
#                beside the Admin API emulator and local AWS, soak included
#   make fuzz    every Fuzz target in the repository, FUZZTIME executions each

E2E_TIMEOUT ?= 45m
SOAK_RUNS ?= 8
SOAK_SEED ?= 1
# An execution count, not a duration: a duration races the fuzz
# coordinator's own deadline on a loaded machine and fails with a bare
# "context deadline exceeded" and no crasher (go.dev/issue/75804, fixed in
# Go 1.27); a count has no deadline to race.
FUZZTIME ?= 20000x

.PHONY: e2e fuzz

e2e: ## real bootstraps as Lambda runs them: events, soak, secret scan (logs in build/e2e/)
	set -o pipefail; ORGWARDEN_E2E=1 ORGWARDEN_SOAK_RUNS=$(SOAK_RUNS) ORGWARDEN_SOAK_SEED=$(SOAK_SEED) \
	  $(GO) test -json -count=1 -timeout $(E2E_TIMEOUT) -v ./e2e/... ./testenv/runtimeapi/ | $(GO) run ./internal/tools/keyscan -v

fuzz: ## every Fuzz target in the repository for FUZZTIME each (default 20000 executions)
	@set -e; found=0; \
	for f in $$(grep -rlE --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.cache '^func Fuzz[A-Za-z0-9_]+\(' .); do \
	  dir=$$(dirname $$f); \
	  for name in $$(grep -hoE '^func Fuzz[A-Za-z0-9_]+' $$f | sed 's/^func //'); do \
	    found=$$((found+1)); \
	    echo "fuzz: $$dir $$name for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$dir; \
	  done; \
	done; \
	[ $$found -gt 0 ] || { echo "fuzz: no Fuzz targets found" >&2; exit 1; }; \
	echo "fuzz: $$found targets, $(FUZZTIME) each, no failure"

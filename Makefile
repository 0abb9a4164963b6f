# orgwarden: on a fresh machine, `make demo` and `make test` are all you need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO ?= go
FUNCTIONS := keyrotation invitecleanup auditexport offboarding inventory
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.1.4
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help demo test build lint vulncheck clean

help: ## list targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

demo: ## run every job end to end on the emulator and an in-process S3
	$(GO) run ./cmd/orgwarden demo

test: ## run every test (unit, contract, CDK assertions); fails if any output line holds key material
	set -o pipefail; $(GO) test -json ./... | $(GO) run ./internal/tools/keyscan

build: ## build each function's linux/arm64 bootstrap and zip under build/
	@mkdir -p build
	@for f in $(FUNCTIONS); do \
	  [ -f functions/$$f/main.go ] || { echo "build: functions/$$f not built yet, skipped"; continue; }; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -tags lambda.norpc \
	    -ldflags='-s -w -buildid=' -o build/$$f/bootstrap ./functions/$$f || exit 1; \
	  $(GO) run ./internal/tools/mkzip -o build/$$f.zip build/$$f/bootstrap || exit 1; \
	  printf 'build: %-14s bootstrap %6d KiB  zip %6d KiB\n' $$f \
	    $$(( $$(stat -c %s build/$$f/bootstrap) / 1024 )) $$(( $$(stat -c %s build/$$f.zip) / 1024 )); \
	done

lint: ## go vet, staticcheck and govulncheck (pinned, via go run; govulncheck only where vuln.go.dev answers)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@# The vulnerability database is not on the module proxy: where
	@# vuln.go.dev cannot be reached, say so loudly instead of failing lint
	@# for a reason that has nothing to do with the code.
	@if curl -fsS -m 15 -o /dev/null https://vuln.go.dev/index/db.json 2>/dev/null; then \
		$(MAKE) --no-print-directory vulncheck; \
	else \
		echo "lint: govulncheck SKIPPED: https://vuln.go.dev is not reachable from this machine; run 'make vulncheck' where it is"; \
	fi

vulncheck: ## govulncheck (pinned); needs https://vuln.go.dev
	$(GO) run $(GOVULNCHECK) ./...

clean: ## remove build outputs
	rm -rf build cdk.out

# Each area adds its own targets in a fragment of its own.
-include infra/infra.mk
-include e2e/e2e.mk
-include bench/bench.mk

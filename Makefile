# orgwarden: two commands matter on a fresh machine, `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO ?= go
FUNCTIONS := keyrotation invitecleanup auditexport offboarding
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help demo test build lint bench e2e

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

demo: ## run every job end to end on the emulator and an in-process S3
	$(GO) run ./cmd/orgwarden demo

test: ## run every test (unit, contract, CDK assertions)
	$(GO) test ./...

# Each area adds its own targets in a fragment of its own.
-include infra/infra.mk

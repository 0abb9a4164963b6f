# infra/infra.mk: CDK targets (included by the top-level Makefile). See infra/README.md.
#
#   make synth                                  template in cdk.out/, offline, no AWS credentials
#   make diff   INFRA_CONFIG=path/to/prod.json  compare with the deployed stack
#   make deploy INFRA_CONFIG=path/to/prod.json  deploy with your AWS credentials
#
# The CLI is the locally pinned aws-cdk (package.json): the npm `latest` tag is a
# 3.x CLI that cannot read this library's cloud assembly, and a bare `npx cdk`
# fetches an unrelated package.

CDK := ./node_modules/.bin/cdk
INFRA_EXAMPLE_CONFIG := infra/config.example.json
INFRA_CONFIG ?=
# No telemetry, no notices, no upgrade check: synth must work without a network.
CDK_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
CDK_FLAGS := --output cdk.out --no-notices --no-version-reporting

.PHONY: synth diff deploy cdk-bootstrap infra-config-required

# deploy and diff need a real configuration. Checked when the Makefile is
# read, so a missing one is refused before anything is built or installed
# (a prerequisite would run after, or with -j alongside, the build).
ifneq ($(filter deploy diff,$(MAKECMDGOALS)),)
ifeq ($(strip $(INFRA_CONFIG)),)
$(error set INFRA_CONFIG=<your configuration file> (see infra/README.md); $(INFRA_EXAMPLE_CONFIG) is for synth only)
endif
ifeq ($(strip $(INFRA_CONFIG)),$(INFRA_EXAMPLE_CONFIG))
$(error INFRA_CONFIG=$(INFRA_CONFIG) is the example, for synth only: copy it and fill in your organization (see infra/README.md))
endif
ifeq ($(wildcard $(INFRA_CONFIG)),)
$(error INFRA_CONFIG=$(INFRA_CONFIG): no such file)
endif
endif

# aws-cdk ships Go project templates (`%name%.template.go`); a go.mod in
# node_modules makes it a module of its own, so `go test ./...` skips it.
$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund
	@printf 'module node_modules\n\n// Keeps npm packages out of the orgwarden module (see infra/infra.mk).\n' > node_modules/go.mod
	@touch $@

synth: build $(CDK) ## synthesize the stack into cdk.out/ (offline; INFRA_CONFIG=file, default the example)
	AWS_EC2_METADATA_DISABLED=true $(CDK_ENV) $(CDK) synth $(CDK_FLAGS) --quiet --no-lookups \
	  -c orgwarden.configFile=$(or $(INFRA_CONFIG),$(INFRA_EXAMPLE_CONFIG))
	@ls cdk.out/*.template.json

diff: infra-config-required build $(CDK) ## show what `make deploy` would change (needs AWS credentials)
	$(CDK_ENV) $(CDK) diff $(CDK_FLAGS) -c orgwarden.configFile=$(INFRA_CONFIG)

deploy: infra-config-required build $(CDK) ## deploy the stack with your AWS credentials (INFRA_CONFIG=file)
	$(CDK_ENV) $(CDK) deploy $(CDK_FLAGS) --require-approval broadening -c orgwarden.configFile=$(INFRA_CONFIG)

cdk-bootstrap: $(CDK) ## once per account and region before the first deploy (needs AWS credentials)
	$(CDK_ENV) $(CDK) bootstrap --no-notices --no-version-reporting

infra-config-required:
	@if [ -z "$(INFRA_CONFIG)" ] || [ "$(INFRA_CONFIG)" = "$(INFRA_EXAMPLE_CONFIG)" ]; then \
	  echo "set INFRA_CONFIG=<your configuration file> (see infra/README.md); $(INFRA_EXAMPLE_CONFIG) is for synth only" >&2; \
	  exit 1; \
	fi

# Joinery: two commands for a fresh machine.
#   make demo   the whole story on the local devstack
#   make test   every test (what CI runs)
# and one for maintainers:
#   make release VERSION=x.y.z   every release artifact, into dist/x.y.z (docs/releasing.md)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
TOOLS := $(CURDIR)/.tools

.PHONY: all build test lint fmt bench demo docs terraform opentofu teleport-go-client floor-provider azure-sdk clean-tools fuzz fuzz-smoke \
	release release-native

all: build

## Install the Terraform CLIs used by tests and the demo (into .tools/, ignored).
terraform:
	@./scripts/install-terraform.sh >/dev/null

## Build OpenTofu from its Go module (into .tools/, ignored; cached): every provider
## end-to-end test runs with it too.
opentofu:
	@./scripts/install-opentofu.sh >/dev/null

## Build Teleport's Go API client check (into .tools/, ignored).
teleport-go-client:
	@./scripts/install-teleport-go-client.sh >/dev/null

## Build the plan benchmark's floor: a do-nothing terraform-plugin-framework provider serving
## our schemas (tests/floor-provider, into .tools/bin; make bench only).
floor-provider:
	@./scripts/install-floor-provider.sh >/dev/null

## Install Microsoft's Python SDKs for Azure (into .tools/azure-sdk, ignored): the tests drive
## the devstack's Azure emulator with them.
azure-sdk:
	@./scripts/install-azure-sdk.sh >/dev/null

build:
	$(CARGO) build --workspace --bins --examples

## The whole story on the local devstack (see scripts/demo.sh).
demo:
	./scripts/demo.sh

## Every test: unit, devstack, provider with real Terraform, agent as a process.
test: terraform opentofu teleport-go-client azure-sdk build release-native
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	JOINERY_TOOLS=$(TOOLS) $(CARGO) test --workspace --no-fail-fast
	$(MAKE) fuzz-smoke

## The release binaries for this machine's platform, which the installation tests
## package, sign and install from a local registry (tests/tests/release*.rs).
release-native:
	./scripts/release.sh --platforms linux_amd64 --build-only

## Every release artifact into dist/$(VERSION)/ (docs/releasing.md): the signed
## provider packages for the registries, the agent's static binaries and .deb packages.
## PLATFORMS narrows the platforms (default: every one); JOINERY_SIGNING_KEY signs.
PLATFORMS ?=
release:
	@if [ -z "$(VERSION)" ]; then echo "usage: make release VERSION=x.y.z [PLATFORMS='linux_amd64 …']" >&2; exit 2; fi
	./scripts/release.sh $(if $(PLATFORMS),--platforms "$(PLATFORMS)") $(VERSION)

## Every fuzz target briefly (part of make test), or long (make fuzz FUZZ_SECONDS=…).
FUZZ_SECONDS ?= 600
fuzz-smoke:
	./scripts/fuzz.sh 10

fuzz:
	./scripts/fuzz.sh $(FUZZ_SECONDS)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean-tools:
	rm -rf $(TOOLS)

## Benchmark figures (release build), one table with what each is compared to,
## also written to target/joinery-bench.json: devstack throughput, the agent's
## one-shot join, a 1,000-agent fleet through an outage, terraform plans.
bench: terraform opentofu floor-provider
	$(CARGO) build --release --workspace --bins
	./target/release/joinery-bench

## Regenerate docs/resources, docs/data-sources and docs/index.md from the provider schema.
docs: terraform
	$(CARGO) build -p terraform-provider-teleport
	./scripts/docs.sh

# Omnibridge: `make run` starts the local stack; `make test` runs everything CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

FUNCTIONS := $(notdir $(wildcard functions/*))
COMMIT    := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X github.com/omnibridge/omnibridge/shared/runtime.Commit=$(COMMIT)
CFN_LINT  ?= $(shell command -v cfn-lint 2>/dev/null || echo /root/.pyenv/shims/cfn-lint)
# Packages whose integration tests run a second time against dynalite.
DYNALITE_PKGS := ./shared/dynamo/... ./shared/adminapi/... ./shared/app/... ./shared/engine/... ./shared/agentstream/... ./shared/webhook/... ./shared/sessionsync/... ./shared/calllogsync/...

.PHONY: run test lint unit dynalite cfn-lint salesforce build clean bench bench-store bench-coldstart

run:
	go run ./infra/local

test: lint unit dynalite cfn-lint salesforce build
	@echo "== make test: all checks passed"

lint:
	@echo "== gofmt and go vet"
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...

unit:
	@echo "== go test ./... (embedded DynamoDB)"
	go test -count=1 ./...

dynalite:
	@echo "== store integration tests against dynalite"
	infra/scripts/with-dynalite.sh go test -count=1 -v $(DYNALITE_PKGS)

cfn-lint:
	@echo "== cfn-lint template.yaml"
	@if [ ! -x "$(CFN_LINT)" ]; then echo "cfn-lint not found (expected on PATH or at /root/.pyenv/shims/cfn-lint); install it with: pip install cfn-lint" >&2; exit 1; fi
	$(CFN_LINT) template.yaml

salesforce:
	@echo "== Salesforce package: jest, Apex parser, metadata and contract checks (offline)"
	infra/scripts/salesforce-test.sh

build:
	@echo "== building each function as bootstrap for linux/arm64"
	@for f in $(FUNCTIONS); do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o bin/$$f/bootstrap ./functions/$$f; \
	  printf '   %-22s %s bytes\n' "$$f" "$$(stat -c %s bin/$$f/bootstrap)"; \
	done

bench:
	go test -run '^$$' -bench . -benchmem ./...

# Store round trips, embedded DynamoDB vs dynalite in one run, printed side by side (BENCHMARKS.md).
bench-store:
	infra/scripts/bench-store.sh

# Cold start of the admin-api bootstrap vs a minimal Lambda, built for the host (BENCHMARKS.md).
bench-coldstart:
	go run ./infra/coldstart -n 20

clean:
	rm -rf bin .aws-sam

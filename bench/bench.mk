# Performance report (included by the Makefile).
#
#   make bench        every function benchmark beside its baseline, deployment
#                     package sizes and init times -> bench/REPORT.md
#   make bench-full   the same with the 1,000,000-event backfill (the goal size)

BENCH_EVENTS ?= 10000,100000
BENCH_OUT ?= bench/REPORT.md
BENCH_FLAGS ?=

.PHONY: bench bench-full

bench: ## performance report -> bench/REPORT.md (BENCH_EVENTS=10000,100000 backfill sizes)
	$(GO) run ./bench -events $(BENCH_EVENTS) -o $(BENCH_OUT) $(BENCH_FLAGS)

bench-full: ## performance report with the 1,000,000-event backfill (takes longer)
	$(MAKE) bench BENCH_EVENTS=10000,1000000

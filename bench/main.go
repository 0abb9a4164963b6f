// Command bench writes orgwarden's performance report, bench/REPORT.md
// (`make bench`). It runs every benchmark the function issues name, one
// package at a time (the machine has two cores, and the emulator's large
// seed alone takes most of one), each reporting its baseline measured in
// the same run; builds the linux/arm64 deployment packages and measures
// them; starts each function cold under the Runtime API harness and
// measures its init; and writes a table of figure, baseline, ratio, goal
// and result, with the machine and Go version.
//
// A benchmark that is missing or fails is a row marked missing, never an
// invented figure. The exit status is 1 when a benchmark could not run,
// and with -strict also when a goal fails.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/e2e/harness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("o", "bench/REPORT.md", "report to write")
	events := flag.String("events", "10000,100000", "audit-export backfill sizes (audit events), comma separated; 1000000 is the goal size")
	cold := flag.Int("cold", 15, "cold starts per function for the init figure")
	only := flag.String("only", "", "run only these functions' benchmarks (comma separated); the others are reported missing")
	rawDir := flag.String("raw", "bench", "directory for each benchmark run's raw output (<function>.txt)")
	strict := flag.Bool("strict", false, "exit 1 when a goal fails, not only when a benchmark cannot run")
	flag.Parse()

	sizes, err := parseSizes(*events)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	loadBefore := loadAverage()
	root, err := harness.ModuleRoot()
	if err != nil {
		return err
	}
	goVersion, err := exec.CommandContext(ctx, goTool(), "env", "GOVERSION").Output()
	if err != nil {
		return fmt.Errorf("go env GOVERSION: %w", err)
	}

	runs := []benchRun{
		{Function: "auditexport", Package: "./functions/auditexport/export", Pattern: "^(BenchmarkBackfill|BenchmarkBackfillEarlySince|BenchmarkIncrementalNoop)$", Benchtime: "1x",
			Env: []string{"ORGWARDEN_BENCH_EVENTS=" + joinInts(sizes)}},
		{Function: "detect", Package: "./functions/auditexport/detect", Pattern: "^BenchmarkDetectOverhead$", Benchtime: "1x",
			Env: []string{"ORGWARDEN_BENCH_EVENTS=" + joinInts(sizes)}},
		{Function: "offboarding", Package: "./functions/offboarding/offboard", Pattern: "^BenchmarkOffboard200Projects$", Benchtime: "3x"},
		{Function: "keyrotation", Package: "./functions/keyrotation/rotation", Pattern: "^BenchmarkStaleSweep500x20$", Benchtime: "1x"},
		{Function: "inventory", Package: "./functions/inventory/snapshot", Pattern: "^BenchmarkSnapshotLargeSeed$", Benchtime: "1x"},
	}
	in := Inputs{Bench: map[string]Results{}, BenchErr: map[string]error{}, Sizes: sizes, Functions: harness.Present(root)}
	var failed []string
	for _, r := range runs {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), r.Function) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s: go test -bench '%s' %s\n", r.Function, r.Pattern, r.Package)
		t0 := time.Now()
		var raw bytes.Buffer
		res, err := runBench(ctx, root, r, &raw)
		if *rawDir != "" {
			_ = os.WriteFile(filepath.Join(root, *rawDir, r.Function+".txt"), raw.Bytes(), 0o644)
		}
		if err != nil {
			in.BenchErr[r.Function] = err
			failed = append(failed, r.Function)
			fmt.Fprintf(os.Stderr, "bench: %s failed: %v\n", r.Function, err)
			continue
		}
		in.Bench[r.Function] = res
		fmt.Fprintf(os.Stderr, "bench: %s: %d results in %s\n", r.Function, len(res), time.Since(t0).Round(time.Second))
	}

	fmt.Fprintln(os.Stderr, "bench: deployment packages and init times")
	in.Artifacts, in.ArtErr = measureArtifacts(ctx, root, *cold)
	if in.ArtErr != nil {
		failed = append(failed, "artifacts")
		fmt.Fprintln(os.Stderr, "bench: artifacts:", in.ArtErr)
	}

	rows := Rows(in)
	meta := ReportMeta{
		Machine: thisMachine(strings.TrimSpace(string(goVersion))), Command: "go run ./bench " + strings.Join(os.Args[1:], " "),
		Sizes: sizes, FullSize: slices.Contains(sizes, goalEvents), Cold: *cold, Elapsed: time.Since(start), Runs: runs,
		LoadBefore: loadBefore, LoadAfter: loadAverage(),
	}
	var report bytes.Buffer
	if err := writeReport(&report, meta, rows); err != nil {
		return err
	}
	path := *out
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, report.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s\n", path)
	var goalFails []string
	for _, r := range rows {
		if r.Status == Fail {
			goalFails = append(goalFails, r.Function+": "+r.Figure)
		}
		if r.Status != Pass && r.Status != Info {
			fmt.Fprintf(os.Stderr, "bench: %s %s: %s %s\n", r.Status, r.Function, r.Figure, r.Value)
		}
	}
	switch {
	case len(failed) > 0:
		return fmt.Errorf("could not measure: %s", strings.Join(failed, ", "))
	case *strict && len(goalFails) > 0:
		return fmt.Errorf("%d goals fail: %s", len(goalFails), strings.Join(goalFails, "; "))
	}
	return nil
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1000 {
			return nil, fmt.Errorf("-events %q: want audit-event counts of at least 1000, comma separated", s)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("-events: no size")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

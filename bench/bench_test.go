package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReadTestJSONJoinsSplitBenchmarkLines(t *testing.T) {
	// go test -json prints a benchmark's name when it starts and its
	// figures when it ends, as separate output events.
	stream := strings.Join([]string{
		`{"Action":"start","Package":"p"}`,
		`{"Action":"output","Package":"p","Output":"goos: linux\n"}`,
		`{"Action":"output","Package":"p","Test":"BenchmarkBackfill","Output":"BenchmarkBackfill/events=10000-2         \t"}`,
		`{"Action":"output","Package":"p","Test":"BenchmarkBackfill","Output":"       1\t2503449130 ns/op\t      4.61 x_baseline\t  17402 events/s\t     33.2 peak_rss_MiB\n"}`,
		`{"Action":"output","Package":"p","Output":"PASS\n"}`,
		`# build output that is not JSON`,
		`{"Action":"pass","Package":"p"}`,
	}, "\n")
	var raw strings.Builder
	text, failed, err := readTestJSON(strings.NewReader(stream), &raw)
	if err != nil || failed {
		t.Fatalf("failed=%v err=%v", failed, err)
	}
	if !strings.Contains(raw.String(), "BenchmarkBackfill/events=10000-2") || strings.Contains(raw.String(), `"Action"`) {
		t.Errorf("raw copy %q", raw.String())
	}
	got := parseBenchmarks(text)
	m := got["BenchmarkBackfill/events=10000"]
	if m["x_baseline"] != 4.61 || m["events/s"] != 17402 || m["peak_rss_MiB"] != 33.2 || m["ns/op"] != 2503449130 {
		t.Fatalf("parsed %v", got)
	}
}

func TestReadTestJSONReportsFailure(t *testing.T) {
	_, failed, err := readTestJSON(strings.NewReader(`{"Action":"output","Output":"--- FAIL: BenchmarkX\n"}`+"\n"+`{"Action":"fail","Package":"p"}`), nil)
	if err != nil || !failed {
		t.Fatalf("failed=%v err=%v", failed, err)
	}
}

func TestParseBenchmarks(t *testing.T) {
	tests := []struct {
		name, line string
		want       map[string]Metrics
	}{
		{"suffix stripped", "BenchmarkStaleSweep500x20-2   \t 1\t3456 ns/op\t 3.41 s/op\t 14.2 x_baseline",
			map[string]Metrics{"BenchmarkStaleSweep500x20": {"ns/op": 3456, "s/op": 3.41, "x_baseline": 14.2}}},
		{"sub-benchmark with slash and equals", "BenchmarkOffboard200Projects/concurrency=32/no_user_projects-8 3 1 ns/op 612 calls",
			map[string]Metrics{"BenchmarkOffboard200Projects/concurrency=32/no_user_projects": {"ns/op": 1, "calls": 612}}},
		{"no GOMAXPROCS suffix", "BenchmarkIncrementalNoop/events=10000/tenant=true 1 5 ns/op 1 list_calls/scope",
			map[string]Metrics{"BenchmarkIncrementalNoop/events=10000/tenant=true": {"ns/op": 5, "list_calls/scope": 1}}},
		{"scientific notation", "BenchmarkX-2 10 1.5e+09 ns/op", map[string]Metrics{"BenchmarkX": {"ns/op": 1.5e9}}},
		{"name line without figures", "BenchmarkBackfill/events=10000-2", map[string]Metrics{}},
		{"log line", "    bench_test.go:12: BenchmarkX took 3 s", map[string]Metrics{}},
		{"odd figures", "BenchmarkX-2 1 3 ns/op 4", map[string]Metrics{}},
		{"not a number", "BenchmarkX-2 1 fast ns/op", map[string]Metrics{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseBenchmarks(tt.line + "\n")
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for name, want := range tt.want {
				for unit, v := range want {
					if got[name][unit] != v {
						t.Errorf("%s %s = %v, want %v (all: %v)", name, unit, got[name][unit], v, got)
					}
				}
			}
		})
	}
}

func rowsBy(rows []Row) map[string]Row {
	out := map[string]Row{}
	for _, r := range rows {
		out[r.Function+": "+r.Figure] = r
	}
	return out
}

func TestRowsJudgeGoals(t *testing.T) {
	in := Inputs{
		Sizes: []int{10000, 1000000},
		Bench: map[string]Results{
			"auditexport": {
				"BenchmarkBackfill/events=10000":                     {"events/s": 20000, "baseline_events/s": 4000, "raw_events/s": 21000, "peak_rss_MiB": 40, "peak_heap_MiB": 20, "list_calls": 210},
				"BenchmarkBackfill/events=1000000":                   {"events/s": 15000, "baseline_events/s": 5000, "raw_events/s": 20000, "peak_rss_MiB": 70, "list_calls": 20100},
				"BenchmarkIncrementalNoop/events=10000/tenant=false": {"list_calls": 1, "list_calls/scope": 1},
				"BenchmarkIncrementalNoop/events=10000/tenant=true":  {"list_calls": 2, "list_calls/scope": 1},
				// 1M tenant=false is missing
				"BenchmarkIncrementalNoop/events=1000000/tenant=true": {"list_calls": 6, "list_calls/scope": 3},
			},
			"offboarding": {
				"BenchmarkOffboard200Projects/concurrency=32": {"ms": 640, "baseline_ms": 12000, "calls": 605, "calls_excl_key_deletes": 405, "budget": 405},
				"BenchmarkOffboard200Projects/concurrency=1":  {"ms": 12100, "baseline_ms": 12000, "calls": 605, "calls_excl_key_deletes": 406, "budget": 405},
			},
		},
		BenchErr: map[string]error{"keyrotation": errors.New("exit status 1\n--- FAIL")},
		Artifacts: map[string]Artifact{
			"minimal":     {ZipBytes: 3 << 20, Inits: []time.Duration{2 * time.Millisecond}},
			"auditexport": {ZipBytes: 7 << 20, Inits: []time.Duration{8 * time.Millisecond, 9 * time.Millisecond, 60 * time.Millisecond}},
			"offboarding": {ZipBytes: 9 << 20, Inits: []time.Duration{70 * time.Millisecond}},
		},
		Functions: []string{"auditexport", "offboarding", "invitecleanup"},
	}
	rows := rowsBy(Rows(in))
	tests := []struct {
		row, status, ratio string
	}{
		{"auditexport: backfill of 10,000 events: throughput", Info, "5.00×"},
		{"auditexport: backfill of 1,000,000 events: throughput", Fail, "3.00×"},
		{"auditexport: backfill of 10,000 events: share of raw concurrent paging", Info, "0.952×"},
		{"auditexport: backfill of 1,000,000 events: share of raw concurrent paging", Fail, "0.75×"},
		{"auditexport: backfill of 10,000 events: peak memory (RSS)", Pass, "—"},
		{"auditexport: backfill of 1,000,000 events: peak memory (RSS)", Fail, "1.75×"}, // not flat
		{"auditexport: scheduled run, nothing new (10,000 events, tenant events off): list calls per scope", Pass, "0.00476×"},
		{"auditexport: scheduled run, nothing new (1,000,000 events, tenant events off): list calls per scope", Missing, "—"},
		{"auditexport: scheduled run, nothing new (1,000,000 events, tenant events on): list calls per scope", Fail, "0.000299×"},
		{"offboarding: offboard one person in 200 projects (concurrency=32): time", Pass, "0.0533×"},
		{"offboarding: offboard one person in 200 projects (concurrency=1): time", Fail, "1.01×"},
		{"offboarding: offboard one person in 200 projects (concurrency=32): API calls", Pass, "1.00×"},
		{"offboarding: offboard one person in 200 projects (concurrency=1): API calls", Fail, "1.00×"},
		{"keyrotation: stale-key sweep, 500 projects × 20 keys, 20 ms latency", Missing, "—"},
		{"auditexport: deployment package (linux/arm64 zip)", Pass, "2.33×"},
		{"offboarding: deployment package (linux/arm64 zip)", Fail, "3.00×"},
		{"auditexport: init under the Runtime API harness (median of 3 cold starts)", Pass, "4.50×"},
		{"offboarding: init under the Runtime API harness (median of 1 cold starts)", Fail, "35×"},
		{"invitecleanup: deployment package (linux/arm64 zip)", Missing, "—"},
	}
	for _, tt := range tests {
		r, ok := rows[tt.row]
		if !ok {
			t.Errorf("no row %q", tt.row)
			continue
		}
		if r.Status != tt.status || r.Ratio != tt.ratio {
			t.Errorf("%s: %s %s, want %s %s", tt.row, r.Status, r.Ratio, tt.status, tt.ratio)
		}
	}
	if r := rows["keyrotation: stale-key sweep, 500 projects × 20 keys, 20 ms latency"]; !strings.Contains(r.Note, "benchmark run failed: exit status 1") {
		t.Errorf("a failed benchmark's row says %q", r.Note)
	}
}

func TestGoalSizeMissingWhenNotRun(t *testing.T) {
	in := Inputs{Sizes: []int{10000}, Bench: map[string]Results{"auditexport": {
		"BenchmarkBackfill/events=10000": {"events/s": 20000, "baseline_events/s": 4000, "raw_events/s": 21000, "peak_rss_MiB": 40},
	}}}
	rows := rowsBy(Rows(in))
	r, ok := rows["auditexport: backfill of 1,000,000 events: throughput"]
	if !ok || r.Status != Missing || !strings.Contains(r.Note, "make bench-full") {
		t.Errorf("goal-size row %+v", r)
	}
	if r := rows["auditexport: backfill of 10,000 events: throughput"]; r.Status != Info {
		t.Errorf("smaller size judged: %+v", r)
	}
}

func TestReportSaysWhatRan(t *testing.T) {
	rows := []Row{{Function: "f", Figure: "a | b", Value: "1", Baseline: "2", Ratio: "0.5×", Goal: "< 3", Status: Pass, Note: "why"},
		{Function: "g", Figure: "c", Value: "—", Baseline: "—", Ratio: "—", Goal: "< 3", Status: Missing}}
	var b strings.Builder
	meta := ReportMeta{Machine: Machine{CPU: "Test CPU", Cores: 2, OS: "linux", Arch: "amd64", GoVersion: "go1.26.8"}, Command: "go run ./bench", Sizes: []int{10000, 100000}, Cold: 5}
	if err := writeReport(&b, meta, rows); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Test CPU, 2 cores, linux/amd64", "go1.26.8", "10,000, 100,000 audit events", "**not** the 1,000,000-event goal size",
		"**1 pass, 0 fail, 1 missing** (and 0 figures", `| f | a \| b | 1 | 2 | 0.5× | < 3 | pass |`, "- f, a | b: why"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestParseSizes(t *testing.T) {
	if got, err := parseSizes("100000, 10000,100000"); err != nil || joinInts(got) != "10000,100000" {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", "ten", "10,100000", "-5"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) accepted", bad)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1000000: "1,000,000", -12345: "-12,345"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q", n, got)
		}
	}
}

package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Status of a row.
const (
	Pass    = "pass"
	Fail    = "FAIL"
	Missing = "missing"
	// Info marks a figure shown for context that no goal judges (the
	// throughput goals are set for the 1,000,000-event backfill).
	Info = "info"
)

// Row is one line of the report: a figure beside its baseline, measured
// in the same run, their ratio and the goal.
type Row struct {
	Function string
	Figure   string // what was measured
	Value    string // the figure
	Baseline string // the baseline's figure, and what the baseline is
	Ratio    string // figure ÷ baseline
	Goal     string
	Status   string
	Note     string
}

// Inputs are everything the rows are computed from.
type Inputs struct {
	Bench     map[string]Results // by function
	BenchErr  map[string]error
	Sizes     []int // audit events per backfill size
	Artifacts map[string]Artifact
	ArtErr    error
	Functions []string // functions present in the tree
}

// Rows evaluates every goal the function issues name, in report order.
func Rows(in Inputs) []Row {
	var rows []Row
	rows = append(rows, auditExportRows(in)...)
	rows = append(rows, detectRows(in)...)
	rows = append(rows, offboardingRows(in)...)
	rows = append(rows, keyRotationRows(in)...)
	rows = append(rows, inventoryRows(in)...)
	rows = append(rows, artifactRows(in)...)
	return rows
}

// missing is the row of a benchmark that did not report: the report says
// so instead of inventing a figure.
func missing(function, figure, goal string, in Inputs, bench string) Row {
	note := fmt.Sprintf("no result for %s", bench)
	if err := in.BenchErr[function]; err != nil {
		note = "benchmark run failed: " + firstLine(err.Error())
	}
	return Row{Function: function, Figure: figure, Value: "—", Baseline: "—", Ratio: "—", Goal: goal, Status: Missing, Note: note}
}

func verdict(ok bool) string {
	if ok {
		return Pass
	}
	return Fail
}

func auditExportRows(in Inputs) []Row {
	const fn = "auditexport"
	res := in.Bench[fn]
	var rows []Row
	var firstPeak float64
	var firstPeakSize int
	sizes := in.Sizes
	if !slices.Contains(sizes, goalEvents) {
		sizes = append(slices.Clone(sizes), goalEvents)
	}
	for _, n := range sizes {
		size := fmt.Sprintf("%s events", thousands(n))
		name := fmt.Sprintf("BenchmarkBackfill/events=%d", n)
		m, ok := res[name]
		if !ok {
			r := []Row{
				missing(fn, "backfill of "+size+": throughput", "≥ 4× the baseline", in, name),
				missing(fn, "backfill of "+size+": share of raw concurrent paging", "≥ 90% of raw paging", in, name),
				missing(fn, "backfill of "+size+": peak memory", "< 100 MiB, flat", in, name)}
			if !slices.Contains(in.Sizes, n) {
				for i := range r {
					r[i].Note = "the goal size did not run: make bench-full"
				}
			}
			rows = append(rows, r...)
			continue
		}
		eps, base, raw := m["events/s"], m["baseline_events/s"], m["raw_events/s"]
		tp := Row{
			Function: fn, Figure: "backfill of " + size + ": throughput",
			Value:    fmt.Sprintf("%s events/s", thousands(int(eps))),
			Baseline: fmt.Sprintf("%s events/s (SDK ListAutoPaging, sequential, gzip JSONL)", thousands(int(base))),
			Ratio:    ratio(eps, base), Goal: "≥ 4× the baseline", Status: verdict(base > 0 && eps/base >= 4),
		}
		share := Row{
			Function: fn, Figure: "backfill of " + size + ": share of raw concurrent paging",
			Value:    fmt.Sprintf("%s events/s", thousands(int(eps))),
			Baseline: fmt.Sprintf("%s events/s (the same slices paged concurrently, nothing written)", thousands(int(raw))),
			Ratio:    ratio(eps, raw), Goal: "≥ 90% of raw paging", Status: verdict(raw > 0 && eps/raw >= 0.9),
		}
		if n != goalEvents {
			for _, r := range []*Row{&tp, &share} {
				r.Goal += " (set for 1,000,000 events; shown for context)"
				r.Status = Info
			}
		}
		rows = append(rows, tp, share)
		peak, what := m["peak_rss_MiB"], "RSS"
		if peak == 0 {
			peak, what = m["peak_heap_MiB"], "heap"
		}
		row := Row{Function: fn, Figure: "backfill of " + size + ": peak memory (" + what + ")", Value: fmt.Sprintf("%.1f MiB", peak),
			Goal: "< 100 MiB, flat across sizes (≤ 1.5× the smallest size's)"}
		if firstPeak == 0 {
			firstPeak, firstPeakSize = peak, n
			row.Baseline, row.Ratio = "— (smallest size: the others' baseline)", "—"
			row.Status = verdict(peak > 0 && peak < 100)
		} else {
			row.Baseline = fmt.Sprintf("%.1f MiB at %s events", firstPeak, thousands(firstPeakSize))
			row.Ratio = ratio(peak, firstPeak)
			row.Status = verdict(peak < 100 && peak/firstPeak <= 1.5)
		}
		if h := m["peak_heap_MiB"]; what == "RSS" && h > 0 {
			row.Note = fmt.Sprintf("peak heap %.1f MiB", h)
			if l := m["peak_live_MiB"]; l > 0 {
				row.Note += fmt.Sprintf(", peak live heap %.1f MiB", l)
			}
		}
		rows = append(rows, row)
	}

	// The same backfill with --since 2020-01-01, years before the first
	// event: slicing follows the events, so it costs at most 10% more.
	for _, n := range in.Sizes {
		name := fmt.Sprintf("BenchmarkBackfillEarlySince/events=%d", n)
		figure := fmt.Sprintf("backfill of %s events with --since 2020-01-01: cost over the best --since", thousands(n))
		m, ok := res[name]
		if !ok {
			rows = append(rows, missing(fn, figure, "≤ 10% slower", in, name))
			continue
		}
		slow := m["slowdown_pct"]
		rows = append(rows, Row{
			Function: fn, Figure: figure,
			Value:    fmt.Sprintf("%s events/s (%+.1f%%)", thousands(int(m["events/s"])), slow),
			Baseline: fmt.Sprintf("%s events/s (--since just before the first event)", thousands(int(m["best_since_events/s"]))),
			Ratio:    ratio(m["events/s"], m["best_since_events/s"]), Goal: "≤ 10% slower", Status: verdict(slow <= 10),
		})
	}

	// A scheduled run with nothing new, after a backfill.
	for _, n := range in.Sizes {
		for _, tenant := range []bool{false, true} {
			name := fmt.Sprintf("BenchmarkIncrementalNoop/events=%d/tenant=%v", n, tenant)
			figure := fmt.Sprintf("scheduled run, nothing new (%s events, tenant events %s): list calls per scope", thousands(n), onOff(tenant))
			m, ok := res[name]
			if !ok {
				rows = append(rows, missing(fn, figure, "exactly 1", in, name))
				continue
			}
			perScope := m["list_calls/scope"]
			row := Row{Function: fn, Figure: figure, Value: fmt.Sprintf("%g", perScope), Goal: "exactly 1", Status: verdict(perScope == 1)}
			if b, ok := res[fmt.Sprintf("BenchmarkBackfill/events=%d", n)]; ok && b["list_calls"] > 0 {
				row.Baseline = fmt.Sprintf("%s list calls (the backfill of the same organization)", thousands(int(b["list_calls"])))
				row.Ratio = ratio(m["list_calls"], b["list_calls"])
			} else {
				row.Baseline, row.Ratio = "—", "—"
			}
			if re := m["rechecked_events"]; re > 0 {
				row.Note = fmt.Sprintf("%g events re-read in the lookback window", re)
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// goalEvents is the backfill size the throughput goals are set for.
const goalEvents = 1_000_000

func offboardingRows(in Inputs) []Row {
	const fn = "offboarding"
	res := in.Bench[fn]
	const prefix = "BenchmarkOffboard200Projects/"
	var names []string
	for name := range res {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return []Row{
			missing(fn, "offboard one person in 200 projects: time", "< 1 s", in, "BenchmarkOffboard200Projects"),
			missing(fn, "offboard one person in 200 projects: API calls", "≤ 2 × 200 + 5", in, "BenchmarkOffboard200Projects"),
		}
	}
	var rows []Row
	for _, name := range names {
		m := res[name]
		setting := strings.TrimPrefix(name, prefix)
		ms, base := m["ms"], m["baseline_ms"]
		rows = append(rows, Row{
			Function: fn, Figure: "offboard one person in 200 projects (" + setting + "): time",
			Value:    thousands(int(ms)) + " ms",
			Baseline: thousands(int(base)) + " ms (the same code, one request at a time)",
			Ratio:    ratio(ms, base), Goal: "< 1 s", Status: verdict(ms > 0 && ms < 1000),
		})
		budget := m["budget"]
		if budget == 0 {
			budget = 2*200 + 5
		}
		calls, excl := m["calls"], m["calls_excl_key_deletes"]
		perProject := math.Round((budget - 5) / 200)
		goal := fmt.Sprintf("≤ %.0f × projects + 5", perProject)
		if perProject > 2 {
			goal += " (user objects without projects: one membership read per project)"
		}
		rows = append(rows, Row{
			Function: fn, Figure: "offboard one person in 200 projects (" + setting + "): API calls",
			Value:    fmt.Sprintf("%.0f (%.0f without the %.0f key deletions)", calls, excl, calls-excl),
			Baseline: fmt.Sprintf("budget %.0f (= %.0f × 200 + 5, the goal; not a measurement)", budget, perProject),
			Ratio:    ratio(excl, budget),
			Goal:     goal,
			Status:   verdict(excl > 0 && excl <= budget),
			Note:     fmt.Sprintf("counted without key deletions, as the benchmark reports: the person owns a key in every project and each revocation is one DELETE; with them, %.0f calls, %s the budget", calls, ratio(calls, budget)),
		})
	}
	return rows
}

// detectRows: detection's overhead on an export run (issue 18), for every
// size run; the goal is set for 1,000,000 events.
func detectRows(in Inputs) []Row {
	const fn = "detect"
	res := in.Bench[fn]
	var rows []Row
	sizes := in.Sizes
	if !slices.Contains(sizes, goalEvents) {
		sizes = append(slices.Clone(sizes), goalEvents)
	}
	for _, n := range sizes {
		name := fmt.Sprintf("BenchmarkDetectOverhead/events=%d", n)
		figure := fmt.Sprintf("detection after an export of %s events: added time", thousands(n))
		m, ok := res[name]
		if !ok {
			r := missing("auditexport", figure, "< 10% of the export run", in, name)
			if !slices.Contains(in.Sizes, n) {
				r.Note = "the goal size did not run: make bench-full"
			}
			rows = append(rows, r)
			continue
		}
		pct, exp, det := m["overhead_%"], m["baseline_export_s"], m["detect_s"]
		row := Row{
			Function: "auditexport", Figure: figure,
			Value:    fmt.Sprintf("%.2f s (%s events/s)", det, thousands(int(m["detect_events/s"]))),
			Baseline: fmt.Sprintf("%.2f s, the export run itself (backfill, 20 ms API latency)", exp),
			Ratio:    fmt.Sprintf("%.1f%%", pct), Goal: "< 10% of the export run",
			Status: verdict(exp > 0 && pct < 10),
			Note:   fmt.Sprintf("%.0f findings (testenv/auditgen history: one of each injected pattern)", m["findings"]),
		}
		if n != goalEvents {
			row.Goal += " (set for 1,000,000 events; shown for context)"
			row.Status = Info
		}
		rows = append(rows, row)
	}
	return rows
}

func keyRotationRows(in Inputs) []Row {
	const fn = "keyrotation"
	const name = "BenchmarkStaleSweep500x20"
	figure := "stale-key sweep, 500 projects × 20 keys, 20 ms latency"
	m, ok := in.Bench[fn][name]
	if !ok {
		return []Row{missing(fn, figure, "< 5 s", in, name)}
	}
	s, base := m["s/op"], m["baseline_s"]
	row := Row{Function: fn, Figure: figure, Value: fmt.Sprintf("%.2f s", s),
		Baseline: fmt.Sprintf("%.2f s (the same sweep, one worker)", base),
		Ratio:    ratio(s, base), Goal: "< 5 s", Status: verdict(s > 0 && s < 5)}
	if c := m["calls"]; c > 0 {
		row.Note = fmt.Sprintf("%.0f API calls per sweep", c)
	}
	return []Row{row}
}

func artifactRows(in Inputs) []Row {
	var rows []Row
	minimal, haveMin := in.Artifacts["minimal"]
	for _, fn := range in.Functions {
		a, ok := in.Artifacts[fn]
		if !ok || !haveMin {
			note := "not built"
			if in.ArtErr != nil {
				note = "build failed: " + firstLine(in.ArtErr.Error())
			}
			rows = append(rows,
				Row{Function: fn, Figure: "deployment package (linux/arm64 zip)", Value: "—", Baseline: "—", Ratio: "—", Goal: "≤ 8 MiB", Status: Missing, Note: note},
				Row{Function: fn, Figure: "init under the Runtime API harness", Value: "—", Baseline: "—", Ratio: "—", Goal: "< 50 ms", Status: Missing, Note: note})
			continue
		}
		zip := float64(a.ZipBytes) / (1 << 20)
		rows = append(rows, Row{
			Function: fn, Figure: "deployment package (linux/arm64 zip)",
			Value:    fmt.Sprintf("%.2f MiB", zip),
			Baseline: fmt.Sprintf("%.2f MiB (a minimal aws-lambda-go function, same flags)", float64(minimal.ZipBytes)/(1<<20)),
			Ratio:    ratio(float64(a.ZipBytes), float64(minimal.ZipBytes)), Goal: "≤ 8 MiB", Status: verdict(zip <= 8),
			Note: fmt.Sprintf("bootstrap %.1f MiB unzipped", float64(a.Binary)/(1<<20)),
		})
		row := Row{Function: fn, Figure: fmt.Sprintf("init under the Runtime API harness (median of %d cold starts)", len(a.Inits)), Goal: "< 50 ms"}
		if a.InitErr != nil || len(a.Inits) == 0 {
			row.Value, row.Baseline, row.Ratio, row.Status = "—", "—", "—", Fail
			row.Note = fmt.Sprintf("init failed: %v", a.InitErr)
		} else {
			row.Value = ms(a.Median())
			row.Baseline = ms(minimal.Median()) + " (the minimal function)"
			row.Ratio = ratio(float64(a.Median()), float64(minimal.Median()))
			row.Status = verdict(a.Median().Milliseconds() < 50)
			row.Note = "slowest " + ms(a.Max())
		}
		rows = append(rows, row)
	}
	return rows
}

// ratio is figure ÷ baseline, to two significant places.
func ratio(figure, baseline float64) string {
	if baseline == 0 || math.IsNaN(figure/baseline) {
		return "—"
	}
	r := figure / baseline
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f×", r)
	case r >= 1:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("%.3g×", r)
	}
}

func ms(d interface{ Microseconds() int64 }) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// thousands writes n with thin separators: 1,000,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// inventoryRows judge BenchmarkSnapshotLargeSeed: a snapshot of the large
// seed at 20 ms latency against raw concurrent paging of the same lists in
// the same run, its API calls against the fewest pages the organization
// allows, and its peak heap.
func inventoryRows(in Inputs) []Row {
	const fn = "inventory"
	const name = "BenchmarkSnapshotLargeSeed"
	figure := "snapshot of the large seed (10,000 users, 500 projects with settings), 20 ms latency"
	m, ok := in.Bench[fn][name]
	if !ok {
		return []Row{
			missing(fn, figure+": share of raw concurrent paging", "≥ 90% of raw paging", in, name),
			missing(fn, "... API calls", "within 5% of the minimum pages", in, name),
			missing(fn, "... peak heap", "< 100 MiB", in, name),
		}
	}
	s, raw, share := m["s/op"], m["raw_s"], m["share_of_raw"]
	calls, minimum, over := m["calls"], m["min_pages"], m["calls_over_min"]
	peak := m["peak_heap_MiB"]
	return []Row{
		{Function: fn, Figure: figure + ": share of raw concurrent paging", Value: fmt.Sprintf("%.0f%% (%.2f s)", share*100, s),
			Baseline: fmt.Sprintf("%.2f s, the same lists paged with the same 16 workers, nothing written", raw),
			Ratio:    ratio(raw, s), Goal: "≥ 90% of raw paging", Status: verdict(share >= 0.9),
			Note: fmt.Sprintf("%.0f records", m["records"])},
		{Function: fn, Figure: "... API calls", Value: fmt.Sprintf("%.0f", calls),
			Baseline: fmt.Sprintf("%.0f, the fewest pages the organization allows", minimum),
			Ratio:    ratio(calls, minimum), Goal: "within 5% of the minimum pages", Status: verdict(minimum > 0 && over <= 1.05)},
		{Function: fn, Figure: "... peak heap", Value: fmt.Sprintf("%.1f MiB", peak), Baseline: "—", Ratio: "—",
			Goal: "< 100 MiB", Status: verdict(peak > 0 && peak < 100), Note: "Go heap in use, sampled every 20 ms"},
	}
}

package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type emfLine struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct{ Name, Unit string }
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

func TestFlushWritesValidEMF(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "offboarding")
	r.now = func() time.Time { return time.UnixMilli(1700000000123) }

	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); r.Count("KeysRevoked", 2) }()
	}
	wg.Wait()
	r.Set("ExportLagSeconds", 5, Seconds)
	r.Set("ExportLagSeconds", 7, Seconds)
	r.Count("Failures", 1, Dim{"Kind", "transient"})
	r.Count("Failures", 2, Dim{"Kind", "transient"})
	r.Count("Failures", 1, Dim{"Kind", "permanent"})

	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines (one per dimension set), got %d:\n%s", len(lines), buf.String())
	}

	values := map[string]map[string]any{}
	for _, l := range lines {
		var meta emfLine
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &meta); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal([]byte(l), &doc)
		cw := meta.AWS.CloudWatchMetrics[0]
		if meta.AWS.Timestamp != 1700000000123 || cw.Namespace != Namespace {
			t.Errorf("bad metadata: %s", l)
		}
		if doc["Function"] != "offboarding" || cw.Dimensions[0][0] != "Function" {
			t.Errorf("Function dimension missing: %s", l)
		}
		for _, m := range cw.Metrics {
			if _, ok := doc[m.Name]; !ok {
				t.Errorf("metric %s declared but has no value: %s", m.Name, l)
			}
		}
		kind, _ := doc["Kind"].(string)
		values[kind] = doc
	}
	if got := values[""]["KeysRevoked"]; got != 20.0 {
		t.Errorf("KeysRevoked = %v, want 20", got)
	}
	if got := values[""]["ExportLagSeconds"]; got != 7.0 {
		t.Errorf("ExportLagSeconds = %v, want 7 (Set replaces)", got)
	}
	if got := values["transient"]["Failures"]; got != 3.0 {
		t.Errorf("transient Failures = %v, want 3", got)
	}
	if got := values["permanent"]["Failures"]; got != 1.0 {
		t.Errorf("permanent Failures = %v, want 1", got)
	}

	buf.Reset()
	if err := r.Flush(); err != nil || buf.Len() != 0 {
		t.Errorf("second flush should write nothing, wrote %q (err %v)", buf.String(), err)
	}
}

func TestNilRecorderIsSafe(t *testing.T) {
	var r *Recorder
	r.Count("X", 1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestFlushStaysWithinEMFLimits checks the documents CloudWatch would drop
// silently are never written: more than 100 metrics in one directive are
// split over lines, and a series with too many dimensions or an empty
// dimension value is refused with an error while the rest is written.
func TestFlushStaysWithinEMFLimits(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "keyrotation")
	for i := range 250 {
		r.Count(fmt.Sprintf("M%03d", i), i)
	}
	many := make([]Dim, 30)
	for i := range many {
		many[i] = Dim{fmt.Sprintf("D%d", i), "v"}
	}
	r.Count("TooManyDims", 1, many...)
	r.Count("EmptyDim", 1, Dim{"Kind", ""})
	err := r.Flush()
	if err == nil || !strings.Contains(err.Error(), "31 dimensions") || !strings.Contains(err.Error(), "EmptyDim") {
		t.Errorf("Flush error %v", err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (250 metrics by 100)", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var meta emfLine
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &meta); err != nil || json.Unmarshal([]byte(l), &doc) != nil {
			t.Fatal(err)
		}
		ms := meta.AWS.CloudWatchMetrics[0].Metrics
		if len(ms) > 100 {
			t.Errorf("directive of %d metrics", len(ms))
		}
		for _, m := range ms {
			if _, ok := doc[m.Name]; !ok || seen[m.Name] {
				t.Errorf("metric %s: value missing or written twice", m.Name)
			}
			seen[m.Name] = true
		}
	}
	if len(seen) != 250 {
		t.Errorf("%d metrics written, want 250", len(seen))
	}
}

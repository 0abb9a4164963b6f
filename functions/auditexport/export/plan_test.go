package export

import (
	"slices"
	"testing"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
)

func TestPlanSlices(t *testing.T) {
	const d = int64(day)
	t0 := int64(1735689600) // 2025-01-01T00:00:00Z
	tests := []struct {
		name    string
		spans   checkpoint.Spans
		n       int
		minLen  int64
		tenant  bool
		wantMin int
		wantMax int
		aligned bool
	}{
		{"incremental window is one slice", checkpoint.Spans{{From: t0, To: t0 + 4500}}, 32, 6 * 3600, false, 1, 1, false},
		{"both scopes", checkpoint.Spans{{From: t0, To: t0 + 4500}}, 32, 6 * 3600, true, 2, 2, false},
		{"a month in whole days", checkpoint.Spans{{From: t0 + 3600, To: t0 + 30*d + 60}}, 8, 60, false, 8, 8, true},
		{"a month for many workers: one slice a day", checkpoint.Spans{{From: t0 + 3600, To: t0 + 30*d + 60}}, 32, 60, false, 30, 31, true},
		{"a week for many workers: sub-day slices", checkpoint.Spans{{From: t0, To: t0 + 7*d}}, 32, 60, false, 32, 32, false},
		{"one dense day", checkpoint.Spans{{From: t0, To: t0 + d}}, 32, 60, false, 32, 32, false},
		{"gaps each get slices", checkpoint.Spans{{From: t0, To: t0 + 10}, {From: t0 + 5*d, To: t0 + 6*d}}, 8, 1, false, 2, 9, false},
		{"tiny range", checkpoint.Spans{{From: t0, To: t0 + 3}}, 32, 60, false, 1, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := int64(7)
			got := planSlices(tt.spans, tt.n, tt.minLen, tt.tenant, &next)
			if len(got) < tt.wantMin || len(got) > tt.wantMax {
				t.Fatalf("%d slices, want %d..%d: %+v", len(got), tt.wantMin, tt.wantMax, got)
			}
			if next != 7+int64(len(got)) {
				t.Fatalf("next id %d after %d slices", next, len(got))
			}
			// Per scope, the slices tile the spans exactly: no gap, no overlap.
			for _, tenant := range []bool{false, true} {
				var pieces checkpoint.Spans
				var total int64
				for _, s := range got {
					if s.Tenant == tenant {
						pieces = pieces.Add(checkpoint.Span{From: s.From, To: s.To})
						total += s.To - s.From
					}
				}
				if !tenant || tt.tenant {
					if !slices.Equal(pieces, tt.spans.Add()) {
						t.Fatalf("scope tenant=%v covers %v, want %v", tenant, pieces, tt.spans)
					}
					var want int64
					for _, s := range tt.spans {
						want += s.Len()
					}
					if total != want {
						t.Fatalf("slices overlap: %d seconds for %d", total, want)
					}
				}
			}
			for i := 1; i < len(got); i++ {
				if got[i].From > got[i-1].From {
					t.Fatalf("not newest first: %+v", got)
				}
			}
			if tt.aligned {
				for _, s := range got {
					if s.From != tt.spans[0].From && s.From%d != 0 {
						t.Fatalf("slice %+v does not start at midnight", s)
					}
				}
			}
		})
	}
}

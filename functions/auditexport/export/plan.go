package export

import (
	"slices"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
)

// planSlices splits spans into about n pieces of at least minLen seconds
// (at least one per span), newest first, and makes one slice per piece and
// scope. Slice ids come from *next, which is advanced, so they are unique
// across jobs and object names never collide.
//
// More pieces than workers (the callers ask for four per worker) keeps
// every worker busy to the end when events are unevenly spread in time.
func planSlices(spans checkpoint.Spans, n int, minLen int64, tenant bool, next *int64) []checkpoint.Slice {
	var total int64
	for _, s := range spans {
		total += s.Len()
	}
	if total == 0 {
		return nil
	}
	want := int64(n)
	if minLen > 0 {
		want = min(want, total/minLen)
	}
	want = max(want, int64(len(spans)), 1)

	var pieces []checkpoint.Span
	for _, s := range spans {
		if s.Len() == 0 {
			continue
		}
		k := max(1, (want*s.Len()+total/2)/total)
		k = min(k, s.Len())
		step := s.Len() / k
		for i := range k {
			p := checkpoint.Span{From: s.From + i*step, To: s.From + (i+1)*step}
			if i == k-1 {
				p.To = s.To
			}
			pieces = append(pieces, p)
		}
	}
	slices.SortFunc(pieces, func(a, b checkpoint.Span) int {
		switch {
		case a.From > b.From:
			return -1
		case a.From < b.From:
			return 1
		}
		return 0
	})
	scopes := []bool{false}
	if tenant {
		scopes = append(scopes, true)
	}
	out := make([]checkpoint.Slice, 0, len(pieces)*len(scopes))
	for _, p := range pieces {
		for _, t := range scopes {
			out = append(out, checkpoint.Slice{ID: *next, From: p.From, To: p.To, Tenant: t})
			*next++
		}
	}
	return out
}

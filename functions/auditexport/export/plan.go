package export

import (
	"cmp"
	"slices"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
)

const day = 24 * 60 * 60

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
		// A span of many days (enough to keep a quarter of the pieces asked
		// for busy) is cut at midnights only: each day's events then land in
		// one slice and one object per scope, not two.
		days := (s.Len() + day - 1) / day
		wholeDays := days >= int64(n)/4 && days > 1
		if wholeDays {
			k = min(k, days)
		}
		step := s.Len() / k
		from := s.From
		for i := range k {
			to := s.From + (i+1)*step
			if wholeDays {
				to = layout.DayStart(to)
			}
			if i == k-1 {
				to = s.To
			}
			if to > from {
				pieces = append(pieces, checkpoint.Span{From: from, To: to})
				from = to
			}
		}
	}
	slices.SortFunc(pieces, func(a, b checkpoint.Span) int { return cmp.Compare(b.From, a.From) })
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

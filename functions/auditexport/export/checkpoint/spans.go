package checkpoint

import (
	"cmp"
	"slices"
)

// Span is the half-open range [From, To) of effective_at, in unix seconds.
type Span struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Len is the span's duration in seconds.
func (s Span) Len() int64 { return max(0, s.To-s.From) }

// Contains reports whether at is in the span.
func (s Span) Contains(at int64) bool { return at >= s.From && at < s.To }

// Spans is a set of disjoint, sorted, non-adjacent spans.
type Spans []Span

// Add returns the union of s and sp, normalised.
func (s Spans) Add(sp ...Span) Spans {
	all := append(slices.Clone(s), sp...)
	all = slices.DeleteFunc(all, func(x Span) bool { return x.Len() == 0 })
	slices.SortFunc(all, func(a, b Span) int { return cmp.Compare(a.From, b.From) })
	var out Spans
	for _, x := range all {
		if n := len(out); n > 0 && x.From <= out[n-1].To {
			out[n-1].To = max(out[n-1].To, x.To)
			continue
		}
		out = append(out, x)
	}
	return out
}

// Gaps returns the parts of want that s does not cover, oldest first.
func (s Spans) Gaps(want Span) Spans {
	var out Spans
	cur := want.From
	for _, x := range s.Add() {
		if x.To <= cur || x.From >= want.To {
			continue
		}
		if x.From > cur {
			out = append(out, Span{cur, x.From})
		}
		cur = max(cur, x.To)
	}
	if cur < want.To {
		out = append(out, Span{cur, want.To})
	}
	return out
}

// End is the end of the newest span, or 0.
func (s Spans) End() int64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].To
}

// Start is the start of the oldest span, or 0.
func (s Spans) Start() int64 {
	if len(s) == 0 {
		return 0
	}
	return s[0].From
}

// Contains reports whether at is in one of the spans.
func (s Spans) Contains(at int64) bool {
	for _, x := range s {
		if x.Contains(at) {
			return true
		}
	}
	return false
}

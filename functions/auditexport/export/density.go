package export

import (
	"context"
	"errors"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/shared/adminclient"
)

// errStopping ends a density probe when the run is asked to stop.
var errStopping = errors.New("stopping")

// probeMinSpan is the shortest span worth probing: below it, the slicing
// of the whole span is already fine enough.
const probeMinSpan = 2 * day

// narrow finds where a backfill span's events are: the newest event (one
// list call of one event) and the oldest (a binary search of one-event list
// calls over effective_at, to within a sixteenth of the busy part: about 14
// calls for two busy days in six years, 4 when the events fill the span). The span's
// slices then follow the events: the busy part [oldest, newest] gets all
// the pieces, and the empty parts around it one slice each (which still
// reads them, for an event that becomes visible meanwhile). Without it a
// --since far before the first event spreads the slices over empty years
// and leaves two busy ones to one worker each.
//
// It returns the span unchanged (ok false) when the span is short, holds no
// event, or the API fails: slicing is an optimisation, never a reason to
// fail the run.
func (r *run) narrow(ctx context.Context, s checkpoint.Span) (busy checkpoint.Span, ok bool) {
	if s.Len() < probeMinSpan {
		return s, false
	}
	any := func(from, to int64) (int64, bool, error) {
		if r.stopping.Load() {
			return 0, false, errStopping
		}
		p, err := r.api.AuditLogPage(ctx, adminclient.AuditFilter{EffectiveAtGTE: from, EffectiveAtLT: to, Limit: 1})
		if err != nil {
			return 0, false, err
		}
		for _, ev := range p.Events {
			if ev.EffectiveAt >= from && ev.EffectiveAt < to {
				return ev.EffectiveAt, true, nil
			}
		}
		return 0, false, nil
	}
	newest, found, err := any(s.From, s.To)
	if err != nil || !found {
		return s, false
	}
	// No event is in [s.From, lo), one is in [s.From, hi]. The search
	// stops once [lo, hi] is at most a sixteenth of [hi, newest]: the busy
	// span then carries at most about 6% of empty time, and a backfill
	// whose events fill its span costs only a few calls.
	lo, hi := s.From, newest
	for lo < hi && (hi-lo)*16 > newest+1-hi {
		mid := lo + (hi-lo)/2
		_, found, err := any(s.From, mid+1)
		if err != nil {
			return s, false
		}
		if found {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	busy = checkpoint.Span{From: lo, To: newest + 1}
	return busy, busy != s
}

// followEvents replaces each long span of a backfill by the part that
// holds its events plus the empty parts around it, so that planSlices
// spends its pieces where the events are.
func (r *run) followEvents(ctx context.Context, gaps checkpoint.Spans) (busy, empty []checkpoint.Span) {
	for _, g := range gaps {
		b, ok := r.narrow(ctx, g)
		if !ok {
			busy = append(busy, g)
			continue
		}
		busy = append(busy, b)
		if b.From > g.From {
			empty = append(empty, checkpoint.Span{From: g.From, To: b.From})
		}
		if b.To < g.To {
			empty = append(empty, checkpoint.Span{From: b.To, To: g.To})
		}
	}
	return busy, empty
}

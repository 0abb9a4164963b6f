package offboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/message"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// savePreview journals a request the configured dry run kept from being
// applied, and returns where.
func (h *Handler) savePreview(ctx context.Context, p parsedMessage, res *Result) (string, error) {
	if h.journal == nil {
		return "", nil
	}
	dated := p.req.RequestedAt
	if dated.IsZero() {
		dated = p.at.SentAt
	}
	if dated.IsZero() {
		dated = h.now()
	}
	planned := 0
	if res.Record != nil {
		for _, it := range Items(res.Record) {
			if it.Outcome == journal.Planned {
				planned++
			}
		}
	}
	key := journal.PreviewKey(h.cfg.JournalPrefix, dated, p.req.Email, p.req.RequestKey())
	err := h.journal.SavePreview(ctx, journal.Preview{Key: key, Email: p.req.Email, RequestKey: p.req.RequestKey(),
		Body: logging.Redact(p.body), MessageID: p.at.MessageID, SentAt: p.at.SentAt, LastSeenAt: h.now().UTC(),
		Outcome: res.Outcome, Planned: planned})
	if err != nil {
		return "", fmt.Errorf("journal the dry-run request for replay: %w", err)
	}
	return h.journal.Location(key), nil
}

// ReplayResult is what replay did with one preview.
type ReplayResult struct {
	Preview string `json:"preview"`
	Email   string `json:"email,omitempty"`
	// State is the preview's state before this replay.
	State string `json:"state"`
	// Summary is the offboarding's summary, as the handler logs it; nil
	// for a preview that was skipped.
	Summary *Summary `json:"summary,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// ErrStillDryRun refuses to apply a replay under a dry-run configuration.
var ErrStillDryRun = errors.New("ORGWARDEN_DRY_RUN is set: a replay would only preview again; replay once the function is live")

// Replay runs every pending preview through the handler's own path (parse,
// guards, plan, journal, apply), as a dry run unless apply. An applied
// preview is marked replayed and is skipped from then on; a second replay
// of the same request would find its journal record completed in any case.
// A preview that fails verification, is refused or fails stays pending
// and is reported.
func (h *Handler) Replay(ctx context.Context, apply bool) ([]ReplayResult, error) {
	if apply && h.deps.Common.DryRun {
		return nil, ErrStillDryRun
	}
	ctx, runID := app.StartRun(ctx)
	rec := h.deps.Metrics()
	defer h.flush(ctx, rec)
	entries, err := h.journal.Previews(ctx, h.cfg.JournalPrefix)
	if err != nil {
		return nil, err
	}
	clients := &clientCache{deps: h.deps}
	out := make([]ReplayResult, 0, len(entries))
	var errs []error
	for _, e := range entries {
		r := ReplayResult{Preview: h.journal.Location(e.Key)}
		if e.Err != nil {
			r.Error = logging.Redact(e.Err.Error())
			errs = append(errs, e.Err)
			out = append(out, r)
			continue
		}
		r.Email, r.State = e.Preview.Email, e.Preview.State
		if e.Preview.State != journal.PreviewPending {
			out = append(out, r)
			continue
		}
		p := parsedMessage{at: Attempt{MessageID: e.Preview.MessageID, SentAt: e.Preview.SentAt, Replay: true}}
		p.req, p.err = message.Parse([]byte(e.Preview.Body))
		if p.err == nil && !strings.EqualFold(p.req.Email, e.Preview.Email) {
			p.err = fmt.Errorf("preview %s: its body names %s, not %s", e.Key, p.req.Email, e.Preview.Email)
		}
		if !apply {
			p.req.DryRun = true
		}
		s, err := h.offboardOne(ctx, p, clients, rec)
		h.publish(ctx, s)
		r.Summary = &s
		if err != nil {
			r.Error = s.Error
			errs = append(errs, fmt.Errorf("%s: %w", e.Preview.Email, err))
		} else if apply {
			if err := h.journal.MarkReplayed(ctx, e, journal.Replay{At: h.now().UTC(), RunID: runID, Outcome: s.Outcome, Journal: s.Journal}); err != nil {
				// The offboarding is done and journaled; a later replay
				// finds its record completed and changes nothing.
				r.Error = logging.Redact(err.Error())
				errs = append(errs, err)
			}
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

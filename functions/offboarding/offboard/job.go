package offboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/message"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// Offboarder removes one person's access to the organization. One
// Offboarder serves every message of an invocation; it is safe for
// concurrent use on different people.
type Offboarder struct {
	Client *adminclient.Client
	// Users finds the person's user; nil means Client. The handler gives
	// every message of a batch one adminclient.UserIndex, so unknown emails
	// cost one listing of the users per batch.
	Users UserFinder
	Rules guard.Rules
	// MaxKeyRevocations caps the API keys one offboarding may revoke
	// (ORGWARDEN_MAX_DELETIONS). Keys are the deletions whose blast radius
	// reaches beyond the person: a production system may run on one. An
	// offboarding that would revoke more is refused whole.
	MaxKeyRevocations int
	// Journal records every offboarding; nil disables it (the CLI's
	// dry-run previews). A dry run reads it but never writes.
	Journal *journal.Store
	Prefix  string
	Log     *slog.Logger
	Now     func() time.Time
}

// UserFinder finds an organization user by email (ErrNotFound when none).
type UserFinder interface {
	UserByEmail(ctx context.Context, email string) (openai.OrganizationUser, error)
}

// Attempt is what the queue says about this delivery of a request.
type Attempt struct {
	MessageID    string
	ReceiveCount int
	// SentAt dates the journal record when the request carries no
	// requested_at; a redelivery keeps the original send time.
	SentAt time.Time
	// Replay: a request received in dry run, applied later by orgwarden
	// replay. A person who joined, or was invited, after SentAt is not the
	// person the request was about any more, and is refused.
	Replay bool
}

// Outcome is the result of one offboarding request, as the summary and the
// metrics report it. It is the journal's type, so that what an attempt
// recorded and what the summary says cannot drift apart.
type Outcome = journal.RunOutcome

// Outcomes of an offboarding.
const (
	Offboarded        Outcome = "offboarded"         // this attempt removed something and nothing is left
	AlreadyOffboarded Outcome = "already_offboarded" // an earlier attempt or someone else had done it all
	NothingToDo       Outcome = "nothing_to_do"      // everything found was left alone (guards)
	NotFound          Outcome = "not_found"          // no user, no pending invite, no earlier record: a typo or the wrong person?
	DryRun            Outcome = "dry_run"            // the plan, not applied
	Refused           Outcome = "refused"            // a guard said no; nothing was changed
	Incomplete        Outcome = "incomplete"         // a step failed; SQS will redeliver
	// In a message's summary only: the message never reached a job.
	Failed   Outcome = "failed"    // the job could not run (no client, no journal)
	BadInput Outcome = "bad_input" // the message could not be parsed: dead-lettered
)

// Counts are items of an offboarding.
type Counts struct {
	Projects    int  `json:"projects"`
	APIKeys     int  `json:"api_keys"`
	Invites     int  `json:"invites"`
	UserRemoved bool `json:"user_removed"`
}

func (c Counts) empty() bool { return c == Counts{} }

// Result is what one offboarding did.
type Result struct {
	Outcome Outcome `json:"outcome"`
	// DryRun: nothing was changed, whatever asked for the dry run.
	DryRun bool `json:"dry_run"`
	// Refusal says why a guard refused the offboarding.
	Refusal string `json:"refusal,omitempty"`
	// Done counts what this attempt removed (or, in a dry run, would remove);
	// Earlier what the record shows earlier attempts removed.
	Done    Counts `json:"done"`
	Earlier Counts `json:"earlier"`
	// Record is the journal record after this attempt (in a dry run, the
	// plan: items stay "planned").
	Record *journal.Record `json:"-"`
	// JournalLocation is the record's s3:// URL, when it was written.
	JournalLocation string `json:"journal,omitempty"`
}

// RefusedError is a guard's refusal. It is permanent: the same request will
// be refused again until the configuration changes.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// IsRefused reports a guard's refusal.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// Offboard runs one offboarding request: guards, plan, journal ahead,
// apply, journal after. A dry run takes the same path; only the client's
// dry-run mode (and the journal staying unwritten) differs.
func (o *Offboarder) Offboard(ctx context.Context, req message.Request, at Attempt) (*Result, error) {
	now := o.now()
	dryRun := o.Client.DryRun()
	res := &Result{DryRun: dryRun}

	// Protected people are refused before the first call: not even their
	// invites are looked at.
	if v := o.Rules.Check(guard.Subject{Kind: "person", Email: req.Email}); !v.Allowed {
		return o.refuse(res, v.Reason)
	}

	w, err := o.plan(ctx, req)
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			return o.refuse(res, refused.Reason)
		}
		res.Outcome = Incomplete
		return res, err
	}

	if at.Replay {
		if why := joinedSince(w, at.SentAt); why != "" {
			return o.refuse(res, why)
		}
	}

	dated := req.RequestedAt
	if dated.IsZero() {
		dated = at.SentAt
	}
	if dated.IsZero() {
		dated = now
	}
	key := journal.Key(o.Prefix, dated, req.Email, req.RequestKey())
	fresh := func() *journal.Record {
		r := journal.New(key, req.Email, req.RequestKey(), now)
		// HR free text is stored as given, except key material pasted into it.
		r.Request = journal.Request{Reason: logging.Redact(req.Reason), Ticket: logging.Redact(req.Ticket), RequestedAt: req.RequestedAt,
			Kind: string(req.Kind), Via: req.Via, EventID: req.EventID, UserID: req.UserID}
		return r
	}
	var entry *journal.Entry
	if o.Journal != nil {
		if entry, err = o.Journal.Open(ctx, key, fresh); err != nil {
			res.Outcome = Incomplete
			return res, err
		}
	} else {
		entry = &journal.Entry{Record: fresh()}
	}
	rec := entry.Record
	res.Record = rec
	res.Earlier = finalCounts(rec)
	if why := rejoined(rec, w); why != "" {
		return o.refuse(res, why)
	}

	retry := o.reconcile(rec, w, now)
	if err := guard.CheckCap(o.keysToRevoke(w, retry), o.MaxKeyRevocations); err != nil {
		return o.refuse(res, err.Error())
	}

	attempt := journal.Attempt{RunID: logging.RunID(ctx), MessageID: at.MessageID, ReceiveCount: at.ReceiveCount, StartedAt: now}
	if !dryRun {
		rec.Attempts = append(rec.Attempts, attempt)
		rec.Finish(now)
		if o.Journal != nil {
			// Write ahead: the plan is on record before the first change.
			if err := entry.Save(ctx); err != nil {
				res.Outcome = Incomplete
				return res, err
			}
			res.JournalLocation = o.Journal.Location(key)
		}
	}

	applyErr := o.apply(ctx, req, w, retry, rec, res)

	notFound := w.user == nil && len(w.invites) == 0 && blank(rec)
	if dryRun {
		res.Outcome = DryRun
		if notFound {
			res.Outcome = NotFound
		}
		return res, nil
	}
	end := o.now()
	if a := rec.Attempt(attempt); a != nil {
		a.FinishedAt, a.Outcome = end, "completed"
		if applyErr != nil {
			a.Outcome, a.Error = "failed", logging.Redact(applyErr.Error())
		}
	}
	rec.Finish(end)
	if o.Journal != nil {
		// The outcomes must reach the record even when the invocation's
		// context is ending: they are the only trace of what was removed.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := entry.Save(wctx); err != nil {
			applyErr = errors.Join(applyErr, err)
		}
	}
	if applyErr == nil && rec.Status != journal.Completed {
		// Never let an unfinished offboarding pass for a finished one: the
		// error makes SQS deliver the request again.
		applyErr = fmt.Errorf("offboarding of %s incomplete: %s", req.Email, unfinished(rec))
	}
	switch {
	case applyErr != nil:
		res.Outcome = Incomplete
	case !res.Done.empty():
		res.Outcome = Offboarded
	case !res.Earlier.empty() || len(rec.Attempts) > 1:
		res.Outcome = AlreadyOffboarded
	case notFound:
		res.Outcome = NotFound
	default:
		res.Outcome = NothingToDo
	}
	return res, applyErr
}

func (o *Offboarder) refuse(res *Result, reason string) (*Result, error) {
	res.Outcome, res.Refusal = Refused, reason
	return res, &RefusedError{Reason: reason}
}

func (o *Offboarder) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

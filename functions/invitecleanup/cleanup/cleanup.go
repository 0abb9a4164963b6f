// Package cleanup is the invitecleanup function: a scheduled run that
// deletes pending invites older than ORGWARDEN_INVITE_MAX_AGE, and expired
// ones, through the shared plan (guard), cap and dry-run flow of package
// sweep.
package cleanup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/summary"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

// Function is the function's name in logs, metrics and summaries.
const Function = "invitecleanup"

// Config is invitecleanup's own configuration.
type Config struct {
	// MaxAge: pending invites older than this are deleted.
	MaxAge time.Duration
}

// ReadConfig reads invitecleanup's variables; check r.Err() afterwards.
func ReadConfig(r *config.Reader) Config {
	return Config{MaxAge: r.Duration("ORGWARDEN_INVITE_MAX_AGE", 14*24*time.Hour, time.Hour, 3650*24*time.Hour)}
}

// FromEnv builds the handler from the environment, as main.go does at
// Lambda init. Every configuration problem is reported in one error.
// options are for the CLI's demo (WithClock).
func FromEnv(ctx context.Context, env config.Lookup, opts app.Options, options ...Option) (*Handler, error) {
	r := config.NewReader(env)
	cfg := ReadConfig(r)
	deps, err := app.Load(ctx, Function, r, opts)
	if err != nil {
		return nil, err
	}
	return New(deps, cfg, options...), nil
}

// Handler is the invitecleanup Lambda handler.
type Handler struct {
	deps *app.Deps
	cfg  Config
	now  func() time.Time
}

// Option adjusts a Handler.
type Option func(*Handler)

// WithClock replaces time.Now, e.g. with an emulator's clock, so invite
// ages are judged by the organization's time.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns a handler over deps.
func New(deps *app.Deps, cfg Config, opts ...Option) *Handler {
	h := &Handler{deps: deps, cfg: cfg, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Summary is what one run found and did.
type Summary struct {
	summary.Header        // Kind "invite_cleanup"
	MaxAge         string `json:"max_age"`
	// Scanned is the number of invites listed, of any status.
	Scanned int          `json:"scanned"`
	Invites sweep.Result `json:"invites"`
	Counts  Counts       `json:"counts"`
	Errors  []string     `json:"errors,omitempty"`
}

// Counts are the figures the metrics carry.
type Counts struct {
	// Deleted invites were deleted by this run (never in a dry run).
	Deleted int `json:"deleted"`
	// Reported invites are planned deletions not carried out: listed by a
	// dry run, or held because the plan exceeded the cap.
	Reported int `json:"reported"`
	Skipped  int `json:"skipped"`
	Failed   int `json:"failed"`
}

// Handle serves one scheduled invocation.
func (h *Handler) Handle(ctx context.Context, ev sweep.ScheduleEvent) (*Summary, error) {
	return h.Run(ctx, ev.DryRun)
}

// Run cleans up once and publishes the summary. dryRun can only add to the
// configured dry run.
func (h *Handler) Run(ctx context.Context, dryRun bool) (*Summary, error) {
	ctx, runID := app.StartRun(ctx)
	start := time.Now() // wall time: the injected clock judges ages, not durations
	sum := &Summary{
		Header: summary.Header{Kind: "invite_cleanup", RunID: runID, DryRun: h.deps.Common.DryRun || dryRun, StartedAt: h.now().UTC()},
		MaxAge: config.FormatDays(h.cfg.MaxAge),
	}
	err := h.run(ctx, sum)
	if err != nil {
		sum.Errors = append(sum.Errors, err.Error())
	}
	sum.DurationMs = time.Since(start).Milliseconds()
	t := sweep.TallyOf(sum.Invites.Deletions)
	sum.Counts = Counts{Deleted: t.Done, Reported: t.Reported, Skipped: len(sum.Invites.Skipped), Failed: t.Failed}
	if sum.Counts.Failed > 0 {
		err = errors.Join(err, fmt.Errorf("%d invite deletions failed (see the summary)", sum.Counts.Failed))
	}

	rec := h.deps.Metrics()
	rec.Count("InvitesDeleted", sum.Counts.Deleted)
	rec.Count("InvitesReported", sum.Counts.Reported)
	rec.Count("CapExceeded", boolInt(sum.Invites.CapExceeded))
	rec.Add("RunDurationMs", float64(sum.DurationMs), metrics.Milliseconds)
	st := summary.Status{Changed: sum.Counts.Deleted > 0, Failed: err != nil, CapExceeded: sum.Invites.CapExceeded}
	return sum, errors.Join(err, sweep.Publish(ctx, h.deps.Summary(), rec, sum, st))
}

// run selects, plans and applies. A listing error deletes nothing: the
// invites are one list, and the next run reads it whole.
func (h *Handler) run(ctx context.Context, sum *Summary) error {
	client, err := h.deps.AdminClient(ctx, sum.DryRun)
	if err != nil {
		return err
	}
	now := h.now()
	plan := sweep.NewPlan(h.deps.Common.Rules)
	for inv, err := range client.Invites(ctx) {
		if err != nil {
			return err // the client's error names the operation
		}
		sum.Scanned++
		why, ok := h.stale(string(inv.Status), inv.CreatedAt, inv.ExpiresAt, now)
		if !ok {
			continue
		}
		id, email := inv.ID, inv.Email
		// The invite's role is not the person's: deleting an unanswered
		// owner invite touches no owner, so OrgRole stays empty.
		plan.Add(sweep.Candidate{
			Subject: guard.Subject{Kind: "invite", ID: id, Email: email},
			Reason:  why,
			Delete: func(ctx context.Context, reason string) (adminclient.Outcome, error) {
				return client.DeleteInvite(ctx, id, email, reason)
			},
		})
	}
	sum.Invites = plan.Apply(ctx, h.deps.Common.MaxDeletions, client.Concurrency())
	return nil
}

// stale says whether an invite is to be deleted, and why. Accepted invites
// cannot be deleted; a status this code does not know is left alone.
func (h *Handler) stale(status string, created, expires int64, now time.Time) (string, bool) {
	switch {
	case status == "expired" || (status == "pending" && expires > 0 && !now.Before(time.Unix(expires, 0))):
		if expires > 0 {
			return "expired " + time.Unix(expires, 0).UTC().Format(time.RFC3339), true
		}
		return "expired", true
	case status == "pending":
		age := now.Sub(time.Unix(created, 0))
		return fmt.Sprintf("pending for %s (ORGWARDEN_INVITE_MAX_AGE %s)", config.FormatDays(age), config.FormatDays(h.cfg.MaxAge)), age >= h.cfg.MaxAge
	}
	return "", false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

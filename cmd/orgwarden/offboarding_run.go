package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// offboardingJob is `orgwarden run offboarding --email jane@example.com`:
// one person, from flags, with the function's own configuration; a preview
// by default, removals with --apply (runDeleting). The preview and the real
// run offboard the same request; what the real run removes is that
// person's access as it stands then.
func offboardingJob() deletingJob {
	return deletingJob{
		synopsis: "run offboarding --email EMAIL [--user-id ID] [--ticket T] [--reason R]",
		flags: func(fs *flag.FlagSet) jobRunner {
			email := fs.String("email", "", "the departing person's email (required)")
			userID := fs.String("user-id", "", "their organization user id, as a cross-check")
			ticket := fs.String("ticket", "", "HR ticket; names the journal record")
			reason := fs.String("reason", "", "why, for the change log")
			requestedAt := time.Now().UTC().Format(time.RFC3339)
			return func(ctx context.Context, env config.Lookup, opts app.Options, dryRun bool) (*report, error) {
				if *email == "" {
					return nil, fmt.Errorf("%w: --email is required", errUsage)
				}
				// The flags become a request in the queue's own format, so the
				// CLI validates exactly as the function does.
				req := map[string]any{"email": *email, "requested_at": requestedAt}
				for k, v := range map[string]string{"user_id": *userID, "ticket": *ticket, "reason": *reason} {
					if v != "" {
						req[k] = v
					}
				}
				if dryRun {
					req["dry_run"] = true
				}
				body, err := json.Marshal(req)
				if err != nil {
					return nil, err
				}
				// A preview needs only the Admin API (no queue, no bucket, no AWS).
				h, err := offboard.FromEnvLocal(ctx, env, opts, dryRun)
				if err != nil {
					return nil, err
				}
				sum, err := h.Run(ctx, body)
				rep := &report{Job: offboard.Function, DryRun: sum.DryRun,
					Scanned: fmt.Sprintf("the access of %s", *email), Summary: sum}
				for _, it := range sum.Items {
					rep.Items = append(rep.Items, item{Action: offboardingAction(it.Outcome, sum.DryRun),
						Kind: it.Type, ID: it.ID, Name: it.Name, Why: it.Note, Error: ""})
				}
				if sum.Error != "" {
					rep.Errors = append(rep.Errors, sum.Error)
				}
				return rep, err
			}
		},
	}
}

func offboardingAction(o journal.Outcome, dryRun bool) string {
	switch o {
	case journal.Planned:
		if dryRun {
			return actWouldDelete
		}
		return "planned"
	case journal.Removed:
		return actDeleted
	case journal.AlreadyGone:
		return actGone
	case journal.Failed:
		return actFailed
	case journal.Skipped:
		return actSkipped
	}
	return string(o)
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/orgwarden/orgwarden/functions/invitecleanup/cleanup"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// inviteCleanupFunction is the invitecleanup Lambda as the CLI sees it.
func inviteCleanupFunction() lambdaFunction {
	return lambdaFunction{
		name:  cleanup.Function,
		about: "deletes pending invites older than ORGWARDEN_INVITE_MAX_AGE and expired ones (schedule)",
		handler: func(ctx context.Context, env config.Lookup, out io.Writer) (any, error) {
			h, err := cleanup.FromEnv(ctx, env, app.Options{Out: out})
			if err != nil {
				return nil, err
			}
			return h.Handle, nil
		},
		deleting: inviteCleanupJob,
	}
}

// inviteCleanupJob is `orgwarden run invitecleanup`: a preview by default,
// deletions with --apply (runDeleting).
func inviteCleanupJob() deletingJob {
	return deletingJob{
		synopsis: "run invitecleanup",
		flags: func(*flag.FlagSet) jobRunner {
			return func(ctx context.Context, env config.Lookup, opts app.Options, dryRun bool) (*report, error) {
				h, err := cleanup.FromEnv(ctx, env, opts)
				if err != nil {
					return nil, err
				}
				sum, err := h.Run(ctx, dryRun)
				if sum == nil {
					return nil, err
				}
				items := itemsOf(sum.Invites.Deletions)
				items = append(items, itemsOf(sum.Invites.Reports)...)
				items = append(items, itemsOf(sum.Invites.Skipped)...)
				return &report{Job: cleanup.Function, DryRun: sum.DryRun, RunID: sum.RunID,
					Scanned: fmt.Sprintf("%d invites (pending ones older than %s, and expired ones, are stale)", sum.Scanned, sum.MaxAge),
					Items:   items, CapExceeded: sum.Invites.CapExceeded, CapError: sum.Invites.CapError, Errors: sum.Errors,
					Summary: sum}, err
			}
		},
	}
}

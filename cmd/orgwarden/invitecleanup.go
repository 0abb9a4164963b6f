package main

import (
	"context"
	"encoding/json"
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
		run: runInviteCleanup,
	}
}

// runInviteCleanup is `orgwarden run invitecleanup [--dry-run]`: one run
// with the function's configuration, logs on stderr, the summary as JSON on
// stdout.
func runInviteCleanup(ctx context.Context, env config.Lookup, args []string, stdout, stderr io.Writer) error {
	c := &cli{stdout: stdout, stderr: stderr, env: env}
	fs := c.flags("run invitecleanup", "run invitecleanup [--dry-run]")
	dryRun := fs.Bool("dry-run", false, "list what would be deleted, change nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	h, err := cleanup.FromEnv(ctx, env, app.Options{Out: stderr})
	if err != nil {
		return err
	}
	sum, runErr := h.Run(ctx, *dryRun)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sum); err != nil {
		return err
	}
	return runErr
}

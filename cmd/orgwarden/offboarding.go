package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// offboardingFunction is the offboarding Lambda as the CLI sees it.
func offboardingFunction() lambdaFunction {
	return lambdaFunction{
		name:  offboard.Function,
		about: "removes a departing person's keys, memberships, invites and membership (SQS: HR events)",
		handler: func(ctx context.Context, env config.Lookup, out io.Writer) (any, error) {
			h, err := offboard.FromEnv(ctx, env, app.Options{Out: out})
			if err != nil {
				return nil, err
			}
			return h.Handle, nil
		},
		run: runOffboarding,
	}
}

// runOffboarding offboards one person from flags, with the function's own
// configuration: orgwarden run offboarding --email jane@example.com.
func runOffboarding(ctx context.Context, env config.Lookup, args []string, stdout, stderr io.Writer) error {
	c := &cli{stdout: stdout, stderr: stderr, env: env}
	fs := c.flags("run offboarding", "run offboarding --email EMAIL [--user-id ID] [--ticket T] [--reason R] [--dry-run]")
	email := fs.String("email", "", "the departing person's email (required)")
	userID := fs.String("user-id", "", "their organization user id, as a cross-check")
	ticket := fs.String("ticket", "", "HR ticket; names the journal record")
	reason := fs.String("reason", "", "why, for the change log")
	dryRun := fs.Bool("dry-run", false, "report what would be removed, change nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("%w: --email is required", errUsage)
	}
	// The flags become a request in the queue's own format, so the CLI
	// validates exactly as the function does.
	req := map[string]any{"email": *email, "requested_at": time.Now().UTC().Format(time.RFC3339)}
	for k, v := range map[string]string{"user_id": *userID, "ticket": *ticket, "reason": *reason} {
		if v != "" {
			req[k] = v
		}
	}
	if *dryRun {
		req["dry_run"] = true
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	h, err := offboard.FromEnv(ctx, env, app.Options{Out: stderr})
	if err != nil {
		return err
	}
	summary, runErr := h.Run(ctx, body)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(summary); err != nil {
		return err
	}
	return runErr
}

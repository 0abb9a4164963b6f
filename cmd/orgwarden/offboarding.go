package main

import (
	"context"
	"encoding/json"
	"errors"
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
	// A preview needs only the Admin API (no queue, no bucket, no AWS).
	preview := *dryRun || config.NewReader(env).Bool("ORGWARDEN_DRY_RUN", false)
	h, err := offboard.FromEnvLocal(ctx, env, app.Options{Out: stderr}, preview)
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

// replayCommand is `orgwarden replay`: the offboarding requests received
// while the function ran in dry run, applied once it is live.
func (c *cli) replayCommand() command {
	return command{"replay offboarding requests received while the function ran in dry run", c.replayCmd}
}

func (c *cli) replayCmd(ctx context.Context, args []string) error {
	fs := c.flags("replay", "replay [--apply] [--json]   (previews in ORGWARDEN_JOURNAL_BUCKET under ORGWARDEN_JOURNAL_PREFIX/previews/)")
	apply := fs.Bool("apply", false, "offboard for real; without it, show what a replay would do")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	h, err := offboard.FromEnvLocal(ctx, c.env, app.Options{Out: c.stderr}, false)
	if err != nil {
		return err
	}
	results, replayErr := h.Replay(ctx, *apply)
	if errors.Is(replayErr, offboard.ErrStillDryRun) {
		return replayErr
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		printReplay(c.stdout, results, *apply)
	}
	return replayErr
}

func printReplay(w io.Writer, results []offboard.ReplayResult, apply bool) {
	mode := " (preview: nothing was changed; --apply to offboard)"
	if apply {
		mode = ""
	}
	fmt.Fprintf(w, "Replay of %d offboarding request(s) received in dry run%s\n", len(results), mode)
	for _, r := range results {
		line := "  " + r.Preview + ": "
		switch {
		case r.Summary != nil:
			line += r.Email + " " + r.Summary.Outcome
			if r.Summary.Done != nil {
				line += fmt.Sprintf(" (projects %d, keys %d, invites %d, user removed %v)",
					r.Summary.Done.Projects, r.Summary.Done.APIKeys, r.Summary.Done.Invites, r.Summary.Done.UserRemoved)
			}
		case r.State != "":
			line += r.Email + " already " + r.State
		default:
			line += "not replayed"
		}
		if r.Error != "" {
			line += ": " + r.Error
		}
		fmt.Fprintln(w, line)
	}
}

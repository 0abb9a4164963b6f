package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

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
		deleting: offboardingJob,
	}
}

// replayCommand is `orgwarden replay`: the offboarding requests received
// while the function ran in dry run, applied once it is live.
func (c *cli) replayCommand() command {
	return command{"replay offboarding requests received while the function ran in dry run", c.replayCmd}
}

func (c *cli) replayCmd(ctx context.Context, args []string) error {
	fs := c.flags("replay", "replay [--apply] [--output text|json]   (previews in ORGWARDEN_JOURNAL_BUCKET under ORGWARDEN_JOURNAL_PREFIX/previews/)")
	apply := fs.Bool("apply", false, "offboard for real; without it, show what a replay would do")
	output := addOutputFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := output.check(); err != nil {
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
	if output.json() {
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
			line += r.Email + " " + string(r.Summary.Outcome)
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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/restore"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// restoreCommand is `orgwarden restore`, offboarding's rollback.
func (c *cli) restoreCommand() command {
	return command{"re-invite an offboarded person from their journal record", c.restoreCmd}
}

func (c *cli) restoreCmd(ctx context.Context, args []string) error {
	fs := c.flags("restore", "restore --record s3://BUCKET/KEY [--apply] [--allow-owner] [--reason R] [--output text|json]")
	record := fs.String("record", "", "the offboarding journal record, s3://BUCKET/KEY in ORGWARDEN_JOURNAL_BUCKET under ORGWARDEN_JOURNAL_PREFIX (required)")
	apply := fs.Bool("apply", false, "restore for real; without it, report what would be done and change nothing")
	dryRun := fs.Bool("dry-run", false, "preview (the default)")
	allowOwner := fs.Bool("allow-owner", false, "restore the organization owner role when the record says owner (refused otherwise)")
	reason := fs.String("reason", "", "why, for the change log (default: the record's key)")
	output := addOutputFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *apply && *dryRun {
		return fmt.Errorf("%w: --apply and --dry-run contradict each other: choose one", errUsage)
	}
	if err := output.check(); err != nil {
		return err
	}
	if *record == "" {
		return fmt.Errorf("%w: --record is required", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	// Records are trusted only where the offboarding function writes them:
	// the journal bucket and prefix of its configuration.
	r := config.NewReader(c.env)
	jc := offboard.ReadJournalConfig(r)
	deps, err := app.Load(ctx, offboard.Function, r, app.Options{Out: c.stderr})
	if err != nil {
		return err
	}
	rec, err := journal.Read(ctx, deps.AWS.S3, jc.JournalBucket, jc.JournalPrefix, *record)
	if err != nil {
		return err
	}
	// Like every command that changes the organization, a preview unless
	// --apply says otherwise: a forgotten flag never grants access.
	client, err := deps.AdminClient(ctx, !*apply)
	if err != nil {
		return err
	}
	ctx, _ = app.StartRun(ctx)
	rep, restoreErr := restore.Restore(ctx, client, rec, *reason, restore.Options{AllowOwner: *allowOwner})
	if rep != nil {
		if output.json() {
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
		} else {
			printRestoreReport(c.stdout, rep)
		}
	}
	return restoreErr
}

func printRestoreReport(w io.Writer, rep *restore.Report) {
	mode := ""
	if rep.DryRun {
		mode = " (dry run: nothing was changed)"
	}
	fmt.Fprintf(w, "Restore of %s%s\n", rep.Email, mode)
	if rep.UserID != "" {
		fmt.Fprintf(w, "  %s is an organization member again (user %s)\n", rep.Email, rep.UserID)
	}
	for _, a := range rep.Actions {
		line := "  " + string(a.Outcome) + ": " + a.What
		for _, part := range []string{a.ID, a.ProjectID, a.Role} {
			if part != "" {
				line += " " + part
			}
		}
		if a.Note != "" {
			line += " (" + a.Note + ")"
		}
		fmt.Fprintln(w, line)
	}
	if len(rep.CannotRestore) > 0 {
		fmt.Fprintln(w, "Cannot be restored:")
		fmt.Fprintln(w, "  - "+strings.Join(rep.CannotRestore, "\n  - "))
	}
	if rep.Next != "" {
		fmt.Fprintln(w, "Next: "+rep.Next)
	}
}

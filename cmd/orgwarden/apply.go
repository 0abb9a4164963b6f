package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/guard"
)

// Exit statuses of orgwarden (README "Exit codes").
const (
	exitOK       = 0
	exitFailed   = 1 // the run failed: an API error, a deletion that failed
	exitUsage    = 2 // usage or configuration: nothing was run
	exitCap      = 3 // the plan exceeded ORGWARDEN_MAX_DELETIONS: nothing was deleted
	exitDeclined = 4 // --apply was not confirmed: nothing was deleted
)

// errCap and errDeclined mark the runs that end with exitCap and
// exitDeclined.
var (
	errCap      = errors.New("deletion cap exceeded")
	errDeclined = errors.New("not confirmed")
)

// jobRunner runs a deleting job once: a preview when dryRun, else for real
// (limited to opts.Confirmed when set). Logs go to opts.Out.
type jobRunner func(ctx context.Context, env config.Lookup, opts app.Options, dryRun bool) (*report, error)

// deletingJob is a job that deletes, as `orgwarden run` drives it: its own
// flags, then a runner.
type deletingJob struct {
	synopsis string
	// flags registers the job's own flags and returns the runner, which
	// reads them once parsed.
	flags func(fs *flag.FlagSet) jobRunner
}

// runMode is how `orgwarden run` was asked to run a deleting job.
type runMode struct {
	dryRun, apply, yes bool
	output             string
}

func addModeFlags(fs *flag.FlagSet) *runMode {
	m := &runMode{}
	fs.BoolVar(&m.dryRun, "dry-run", false, "preview: list what would be deleted, change nothing (the default)")
	fs.BoolVar(&m.apply, "apply", false, "delete for real, after showing the plan and asking (on a terminal)")
	fs.BoolVar(&m.yes, "yes", false, "with --apply: do not ask (required when not on a terminal)")
	fs.StringVar(&m.output, "output", "", "report format: text, table, json or csv (default: text on a terminal, json otherwise)")
	return m
}

// outputFlag is --output for commands that print one report (text or
// JSON); --json is its shorthand.
type outputFlag struct {
	format string
	asJSON bool
}

func addOutputFlag(fs *flag.FlagSet) *outputFlag {
	o := &outputFlag{}
	fs.StringVar(&o.format, "output", "text", "report format: text or json")
	fs.BoolVar(&o.asJSON, "json", false, "shorthand for --output json")
	return o
}

func (o *outputFlag) check() error {
	switch o.format {
	case "text", "json":
	default:
		return fmt.Errorf("%w: --output %q: want text or json", errUsage, o.format)
	}
	if o.asJSON && o.format == "text" {
		o.format = "json"
	}
	return nil
}

func (o *outputFlag) json() bool { return o.format == "json" }

// check refuses contradictory or unsafe combinations before anything runs.
func (m *runMode) check(env config.Lookup, terminal bool) error {
	switch m.output {
	case "":
		m.output = "json"
		if terminal {
			m.output = "text"
		}
	case "text", "table", "json", "csv":
	default:
		return fmt.Errorf("%w: --output %q: want text, table, json or csv", errUsage, m.output)
	}
	if !m.apply {
		if m.yes {
			return fmt.Errorf("%w: --yes only makes sense with --apply", errUsage)
		}
		return nil
	}
	if m.dryRun {
		return fmt.Errorf("%w: --apply and --dry-run contradict each other: choose one", errUsage)
	}
	r := config.NewReader(env)
	if r.Bool("ORGWARDEN_DRY_RUN", false) && r.Err() == nil {
		return fmt.Errorf("%w: --apply conflicts with ORGWARDEN_DRY_RUN=true, which keeps every run a preview: unset it to delete", errUsage)
	}
	if !terminal && !m.yes {
		return fmt.Errorf("%w: --apply without --yes is refused when not on a terminal (nobody can confirm the plan)", errUsage)
	}
	return nil
}

// runDeleting is `orgwarden run JOB` for a job that deletes: a preview by
// default; with --apply, the preview's plan is shown and confirmed, and the
// real run may delete only what was confirmed.
func (c *cli) runDeleting(ctx context.Context, name string, job deletingJob, args []string) error {
	fs := c.flags("run "+name, job.synopsis+" [--dry-run | --apply [--yes]] [--output text|table|json|csv]")
	mode := addModeFlags(fs)
	run := job.flags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := mode.check(c.env, c.terminal); err != nil {
		return err
	}
	target := targetOf(c.env)

	preview, err := run(ctx, c.env, c.appOptions(nil), true)
	if preview != nil {
		preview.Target = target
	}
	if !mode.apply || err != nil || preview == nil {
		return c.finish(preview, mode.output, err)
	}
	planned := preview.planned()
	if len(planned) == 0 {
		fmt.Fprintf(c.stderr, "Nothing to delete in %s.\n", target.Organization)
		return c.finish(preview, mode.output, nil)
	}
	if preview.CapExceeded {
		return c.finish(preview, mode.output, nil)
	}
	confirmed := guard.NewConfirmed()
	for _, it := range planned {
		confirmed.Add(it.Kind, it.ID)
	}
	if !mode.yes {
		fmt.Fprintf(c.stderr, "\n%s will delete in organization %s (%s):\n\n", name, target.Organization, target.BaseURL)
		writeTable(c.stderr, planned)
		fmt.Fprintf(c.stderr, "\nDelete these %d? Type yes to continue: ", len(planned))
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		if strings.TrimSpace(strings.ToLower(line)) != "yes" {
			fmt.Fprintln(c.stderr)
			return fmt.Errorf("%w: nothing was deleted", errDeclined)
		}
	}
	rep, err := run(ctx, c.env, c.appOptions(confirmed), false)
	if rep != nil {
		rep.Target = target
	}
	return c.finish(rep, mode.output, err)
}

// appOptions are the options of a run from the CLI: logs on stderr, and on
// a terminal, a line for every retry the client waits for.
func (c *cli) appOptions(confirmed *guard.Confirmed) app.Options {
	opts := app.Options{Out: c.stderr, Confirmed: confirmed}
	if c.terminal {
		opts.OnRetry = func(n adminclient.RetryNotice) { fmt.Fprintln(c.stderr, n) }
	}
	return opts
}

// finish prints the report and maps the run's outcome to an error whose
// exit status means something.
func (c *cli) finish(rep *report, output string, runErr error) error {
	if rep != nil {
		if err := rep.write(c.stdout, output); err != nil {
			return err
		}
		if rep.CapExceeded && runErr == nil {
			return fmt.Errorf("%w: %s", errCap, rep.CapError)
		}
	}
	return runErr
}

// target names where a run goes.
type target struct {
	Organization string `json:"organization"`
	BaseURL      string `json:"base_url"`
}

// targetOf names the organization from ORGWARDEN_ORG_ID: the Admin API has
// no call that returns the organization of a key.
func targetOf(env config.Lookup) target {
	t := target{Organization: "(the admin key's organization; set ORGWARDEN_ORG_ID to name it)", BaseURL: config.DefaultBaseURL}
	if v, ok := env("ORGWARDEN_ORG_ID"); ok && strings.TrimSpace(v) != "" {
		t.Organization = strings.TrimSpace(v)
	}
	if v, ok := env("OPENAI_BASE_URL"); ok && strings.TrimSpace(v) != "" {
		t.BaseURL = strings.TrimSpace(v)
	}
	return t
}

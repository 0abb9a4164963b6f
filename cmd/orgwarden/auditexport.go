package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/detect"
	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// auditExportFunction is the audit-log export Lambda as the CLI sees it.
func auditExportFunction() lambdaFunction {
	return lambdaFunction{
		name:  export.Function,
		about: "exports the organization's audit log to S3 with a digest chain (EventBridge schedule)",
		handler: func(ctx context.Context, env config.Lookup, out io.Writer) (any, error) {
			f, err := export.FromEnv(ctx, env, app.Options{Out: out})
			if err != nil {
				return nil, err
			}
			if _, err := detect.Attach(f, env); err != nil {
				return nil, err
			}
			return f.Handle, nil
		},
		run: runAuditExport,
	}
}

// runAuditExport is `orgwarden run auditexport`: one export run with the
// function's configuration, a backfill with --since, progress on stderr and
// the run's summary as JSON on stdout. The first Ctrl-C stops cleanly (open
// objects are finished, the generation sealed, the next run continues);
// a second one aborts.
func runAuditExport(ctx context.Context, env config.Lookup, args []string, stdout, stderr io.Writer) error {
	c := &cli{stdout: stdout, stderr: stderr, env: env}
	fs := c.flags("run auditexport", "run auditexport [--since DATE [--until DATE]] [--dry-run] [--take-over] [--rebuild-checkpoint] [--quiet]")
	since := fs.String("since", "", "backfill history from this date (2025-01-01), RFC 3339 time or unix seconds")
	until := fs.String("until", "", "end of the backfill (default: where the export already reaches, or now)")
	dryRun := fs.Bool("dry-run", false, "read and count, write nothing")
	takeOver := fs.Bool("take-over", false, "recover a generation whose run holds a lease but is known to be gone")
	rebuild := fs.Bool("rebuild-checkpoint", false, "the checkpoint was lost: rebuild it from the bucket's verified digest chain (docs/runbook.md)")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := parse(fs, args); err != nil {
		return err
	}
	req, err := export.EventOptions{Since: *since, Until: *until, DryRun: *dryRun}.Request()
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	req.TakeOver, req.RebuildCheckpoint = *takeOver, *rebuild
	f, err := export.FromEnv(ctx, env, app.Options{Out: stderr})
	if err != nil {
		return err
	}
	if _, err := detect.Attach(f, env); err != nil {
		return err
	}

	// ctx ends at the first interrupt: that asks for a clean stop. The run
	// itself continues until it has sealed, unless a second interrupt comes.
	req.Stop = ctx.Done()
	work, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for range sigs {
			if n++; n >= 2 {
				abort()
				return
			}
		}
	}()

	if !*quiet {
		p := newProgressPrinter(stderr)
		req.Progress, req.ProgressEvery = p.print, time.Second
		defer p.end()
	}
	res, runErr := f.Run(work, req)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	return runErr
}

// progressPrinter writes progress lines: rewritten in place on a terminal,
// one line each otherwise (a log file or CI).
type progressPrinter struct {
	mu   sync.Mutex
	w    io.Writer
	tty  bool
	open bool
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	p := &progressPrinter{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progressPrinter) print(pr export.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", pr)
		p.open = !pr.Done
		if pr.Done {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, pr)
}

func (p *progressPrinter) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

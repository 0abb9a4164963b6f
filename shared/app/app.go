// Package app wires what every orgwarden function needs from its
// environment: the shared configuration, the JSON logger, the AWS clients,
// the admin-key source and a metrics recorder. Each function's FromEnv calls
// Load once at Lambda init; the CLI calls it for local runs.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/secrets"
	"github.com/orgwarden/orgwarden/shared/summary"
)

// Deps are a function's shared dependencies.
type Deps struct {
	Function string
	Common   config.Common
	Log      *slog.Logger
	AWS      *awsconfig.Clients
	Keys     secrets.Source
	// Out receives metrics (EMF) and, through Log, log lines: stdout in Lambda.
	Out io.Writer
	// onRetry is Options.OnRetry.
	onRetry func(adminclient.RetryNotice)
}

// Options adjust Load for tests and the CLI.
type Options struct {
	// Out defaults to os.Stdout.
	Out io.Writer
	// Confirmed limits the run's deletions to a plan a person confirmed
	// after a preview (orgwarden run --apply); nil for no limit.
	Confirmed *guard.Confirmed
	// OnRetry hears of every retry of an Admin API call (the CLI prints
	// them on a terminal); nil in Lambda, where the SDK's waits are logged
	// by nobody and bounded by the function's timeout.
	OnRetry func(adminclient.RetryNotice)
}

// Load reads the common configuration from env and builds the dependencies.
// Function-specific settings are read by the caller from the same Reader,
// so every problem is reported in one error.
func Load(ctx context.Context, function string, r *config.Reader, opts Options) (*Deps, error) {
	common := config.ReadCommon(r)
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%s configuration: %w", function, err)
	}
	out := opts.Out
	if out == nil {
		out = os.Stdout
	}
	common.Rules.Confirmed = opts.Confirmed
	log := logging.New(out, common.LogLevel).With("function", function)

	clients, err := awsconfig.Load(ctx, r.Lookup(), awsconfig.WithLogger(log))
	if err != nil {
		return nil, err
	}
	var keys secrets.Source = secrets.Static{Value: common.AdminKey}
	if common.AdminKeySecretARN != "" {
		keys = secrets.NewCached(clients.SecretsManager, common.AdminKeySecretARN, secrets.DefaultTTL)
	}
	return &Deps{Function: function, Common: common, Log: log, AWS: clients, Keys: keys, Out: out, onRetry: opts.OnRetry}, nil
}

// AdminClient returns an Admin API client for one run, authenticated with
// the current admin key. dryRun is ORed with the configured dry run, so a
// per-event dry run can only make a run safer, never less safe.
func (d *Deps) AdminClient(ctx context.Context, dryRun bool) (*adminclient.Client, error) {
	key, err := d.Keys.AdminKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin key: %w", err)
	}
	return adminclient.New(adminclient.Options{
		BaseURL:       d.Common.BaseURL,
		AdminKey:      key.Value,
		SelfKeyID:     key.KeyID,
		MaxRetries:    retries(d.Common.MaxRetries),
		MaxRetryDelay: d.Common.MaxRetryDelay,
		Timeout:       d.Common.HTTPTimeout,
		RateLimit:     d.Common.RateLimit,
		Concurrency:   d.Common.MaxConcurrency,
		DryRun:        d.Common.DryRun || dryRun,
		Logger:        d.Log,
		Refresh:       d.refreshKey(),
		OnRetry:       d.onRetry,
	})
}

// refreshKey re-reads the admin key after the API rejected it, when the
// source caches it (secrets.Cached): a warm container recovers at once
// after a rotation. nil for a key given directly, which cannot change.
func (d *Deps) refreshKey() func(context.Context) (logging.Secret, string, error) {
	inv, ok := d.Keys.(interface{ Invalidate() })
	if !ok {
		return nil
	}
	return func(ctx context.Context) (logging.Secret, string, error) {
		inv.Invalidate()
		key, err := d.Keys.AdminKey(ctx)
		return key.Value, key.KeyID, err
	}
}

// retries maps the configured retry count to the client's option, where 0
// means "default" and a negative count means none.
func retries(configured int) int {
	if configured == 0 {
		return -1
	}
	return configured
}

// Metrics returns a recorder for one run; Flush it when the run ends.
func (d *Deps) Metrics() *metrics.Recorder { return metrics.New(d.Out, d.Function) }

// Summary returns the publisher of run summaries (log line, an EventBridge
// event when ORGWARDEN_SUMMARY_BUS is set, and the full report in
// ORGWARDEN_REPORT_BUCKET when it is set).
func (d *Deps) Summary() *summary.Publisher {
	p := &summary.Publisher{Function: d.Function, Organization: d.Common.OrgID, Bus: d.Common.SummaryBus, Log: d.Log,
		ReportBucket: d.Common.ReportBucket, ReportPrefix: d.Common.ReportPrefix}
	// Typed nil clients must not become non-nil interfaces.
	if d.AWS != nil && d.AWS.EventBridge != nil {
		p.Events = d.AWS.EventBridge
	}
	if d.AWS != nil && d.AWS.S3 != nil {
		p.Reports = d.AWS.S3
	}
	return p
}

// StartRun returns a context carrying a fresh run id, and the id.
func StartRun(ctx context.Context) (context.Context, string) {
	id := logging.NewRunID()
	return logging.WithRunID(ctx, id), id
}

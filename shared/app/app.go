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
}

// Options adjust Load for tests and the CLI.
type Options struct {
	// Out defaults to os.Stdout.
	Out io.Writer
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
	log := logging.New(out, common.LogLevel).With("function", function)

	clients, err := awsconfig.Load(ctx, r.Lookup(), awsconfig.WithLogger(log))
	if err != nil {
		return nil, err
	}
	var keys secrets.Source = secrets.Static{Value: common.AdminKey}
	if common.AdminKeySecretARN != "" {
		keys = secrets.NewCached(clients.SecretsManager, common.AdminKeySecretARN, secrets.DefaultTTL)
	}
	return &Deps{Function: function, Common: common, Log: log, AWS: clients, Keys: keys, Out: out}, nil
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
	})
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

// Summary returns the publisher of run summaries (log line, and an
// EventBridge event when ORGWARDEN_SUMMARY_BUS is set).
func (d *Deps) Summary() *summary.Publisher {
	return &summary.Publisher{Function: d.Function, Bus: d.Common.SummaryBus, Events: d.AWS.EventBridge, Log: d.Log}
}

// StartRun returns a context carrying a fresh run id, and the id.
func StartRun(ctx context.Context) (context.Context, string) {
	id := logging.NewRunID()
	return logging.WithRunID(ctx, id), id
}

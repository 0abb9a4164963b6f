// Package offboard is the offboarding function: it reads HR "this person is
// leaving" requests from SQS and removes the person's access to the OpenAI
// organization (API keys they own and project memberships, pending invites,
// organization membership), journaling exactly what it removed in S3 so
// that `orgwarden restore` can undo it.
//
// A request is processed by Offboarder.Offboard; Handler is the SQS batch
// handler around it (partial batch responses, dead-letter queue, summaries,
// metrics). Subpackages: message (the request parser), journal (the S3
// record), restore (re-invite and re-add from a record).
package offboard

import (
	"context"
	"net/url"
	"strings"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// Function is the function's name in logs, metrics and summaries.
const Function = "offboarding"

// Config is the function's own configuration (docs/architecture.md).
type Config struct {
	// DLQURL is the queue that receives requests that can never succeed
	// (bad input, refusals), with the reason as message attributes.
	DLQURL        string
	JournalBucket string
	JournalPrefix string
}

// ReadConfig reads ORGWARDEN_DLQ_URL, ORGWARDEN_JOURNAL_BUCKET and
// ORGWARDEN_JOURNAL_PREFIX; problems are collected in r.
func ReadConfig(r *config.Reader) Config {
	c := ReadJournalConfig(r)
	c.DLQURL = r.Required("ORGWARDEN_DLQ_URL")
	if c.DLQURL != "" {
		if u, err := url.Parse(c.DLQURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			r.Fail("ORGWARDEN_DLQ_URL", "%q is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", c.DLQURL)
		}
	}
	return c
}

// ReadJournalConfig reads only where the journal is
// (ORGWARDEN_JOURNAL_BUCKET, ORGWARDEN_JOURNAL_PREFIX): what restore and
// replay need.
func ReadJournalConfig(r *config.Reader) Config {
	c := Config{
		JournalBucket: r.Required("ORGWARDEN_JOURNAL_BUCKET"),
		JournalPrefix: r.String("ORGWARDEN_JOURNAL_PREFIX", journal.DefaultPrefix),
	}
	if strings.HasPrefix(c.JournalBucket, "s3://") || strings.Contains(c.JournalBucket, "/") {
		r.Fail("ORGWARDEN_JOURNAL_BUCKET", "%q: give the bucket name only", c.JournalBucket)
	}
	if c.JournalPrefix != "" && !strings.HasSuffix(c.JournalPrefix, "/") {
		c.JournalPrefix += "/"
	}
	c.JournalPrefix = strings.TrimPrefix(c.JournalPrefix, "/")
	return c
}

// FromEnv builds the handler from environment variables, as main.go and
// `orgwarden invoke offboarding` do. options are for the CLI's demo
// (WithClock).
func FromEnv(ctx context.Context, env config.Lookup, opts app.Options, options ...Option) (*Handler, error) {
	r := config.NewReader(env)
	cfg := ReadConfig(r)
	deps, err := app.Load(ctx, Function, r, opts)
	if err != nil {
		return nil, err
	}
	return New(deps, cfg, options...), nil
}

// FromEnvLocal builds the handler for runs outside SQS (orgwarden run
// offboarding, orgwarden replay), which never dead-letter: no
// ORGWARDEN_DLQ_URL. A preview needs nothing but the Admin API: it is
// forced to dry run, and reads the journal (what earlier attempts did)
// only when ORGWARDEN_JOURNAL_BUCKET is set. Anything else requires the
// journal, which a real run writes before its first change.
func FromEnvLocal(ctx context.Context, env config.Lookup, opts app.Options, preview bool, options ...Option) (*Handler, error) {
	r := config.NewReader(env)
	var cfg Config
	if _, set := env("ORGWARDEN_JOURNAL_BUCKET"); set || !preview {
		cfg = ReadJournalConfig(r)
	}
	deps, err := app.Load(ctx, Function, r, opts)
	if err != nil {
		return nil, err
	}
	if preview {
		deps.Common.DryRun = true
	}
	h := New(deps, cfg, options...)
	if cfg.JournalBucket == "" {
		h.journal = nil
	}
	return h, nil
}

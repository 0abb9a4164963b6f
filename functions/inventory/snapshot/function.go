// Package snapshot is the inventory function: a daily point-in-time
// snapshot of the organization (users, invites, projects archived
// included, project members, service accounts, project and admin API keys,
// and each project's settings), one table per resource, every record
// byte for byte as the API returned it, into the audit bucket as gzip JSON
// Lines under Athena partitions (see Layout and package tables), with a
// manifest per snapshot written last and chained to the previous one by
// SHA-256 (see Manifest and Verify).
//
// It changes nothing in the organization, so it has no dry run, and it
// works with a read-only admin key.
package snapshot

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/summary"
)

// Function is the function's name in logs, metrics and summaries.
const Function = "inventory"

// DefaultPrefix is the inventory's key prefix: PREFIX/inventory/...
const DefaultPrefix = "openai-org"

// Metric names (EMF, namespace per shared/metrics).
const (
	MetricRecords       = "InventoryRecords"
	MetricObjects       = "InventoryObjectsWritten"
	MetricAPICalls      = "InventoryAPICalls"
	MetricSnapshots     = "InventorySnapshotsWritten"
	MetricFailed        = "InventorySnapshotFailed"
	MetricRunDurationMs = "RunDurationMs"
)

// Config is the inventory's own configuration.
type Config struct {
	OrgID  string
	Bucket string
	// KMSKeyID, when set, encrypts every object with SSE-KMS (the audit
	// bucket's key: the inventory is evidence like the audit log).
	KMSKeyID string
	Prefix   string
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ReadConfig reads the inventory's variables; check r.Err() afterwards.
func ReadConfig(r *config.Reader) Config {
	c := Config{
		OrgID:    r.Required("ORGWARDEN_ORG_ID"),
		Bucket:   r.Required("ORGWARDEN_AUDIT_BUCKET"),
		KMSKeyID: r.String("ORGWARDEN_AUDIT_KMS_KEY_ID", ""),
		Prefix:   strings.Trim(r.String("ORGWARDEN_INVENTORY_PREFIX", DefaultPrefix), "/"),
	}
	if c.OrgID != "" {
		if err := layout.ValidateOrgID(c.OrgID); err != nil {
			r.Fail("ORGWARDEN_ORG_ID", "%v", err)
		}
	}
	if c.Bucket != "" && !bucketName.MatchString(c.Bucket) {
		r.Fail("ORGWARDEN_AUDIT_BUCKET", "%q is not an S3 bucket name", c.Bucket)
	}
	if err := layout.ValidatePrefix(c.Prefix); err != nil {
		r.Fail("ORGWARDEN_INVENTORY_PREFIX", "%v", err)
	}
	return c
}

// Layout is the configured organization's layout.
func (c Config) Layout() Layout { return Layout{Prefix: c.Prefix, OrgID: c.OrgID} }

// Handler is the inventory Lambda handler.
type Handler struct {
	deps  *app.Deps
	cfg   Config
	now   func() time.Time
	store Store
}

// Option adjusts a Handler.
type Option func(*Handler)

// WithClock replaces time.Now: the snapshot's day is the clock's (the
// demo runs on the emulator's clock).
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// WithStore replaces the S3 store (tests).
func WithStore(s Store) Option { return func(h *Handler) { h.store = s } }

// FromEnv builds the handler from the environment, as main.go does at
// Lambda init. Every configuration problem is reported in one error.
func FromEnv(ctx context.Context, env config.Lookup, opts app.Options, options ...Option) (*Handler, error) {
	r := config.NewReader(env)
	cfg := ReadConfig(r)
	deps, err := app.Load(ctx, Function, r, opts)
	if err != nil {
		return nil, err
	}
	return New(deps, cfg, options...), nil
}

// New returns a handler over deps.
func New(deps *app.Deps, cfg Config, options ...Option) *Handler {
	h := &Handler{deps: deps, cfg: cfg, now: time.Now}
	if deps.AWS != nil && deps.AWS.S3 != nil {
		h.store = S3Store{Client: deps.AWS.S3, Bucket: cfg.Bucket, KMSKeyID: cfg.KMSKeyID}
	}
	for _, o := range options {
		o(h)
	}
	return h
}

// Config returns the handler's configuration.
func (h *Handler) Config() Config { return h.cfg }

// Store returns where the handler writes.
func (h *Handler) Store() Store { return h.store }

// Event is the scheduled EventBridge event; its detail is not read.
type Event struct {
	events.EventBridgeEvent
}

// Result is one run's summary.
type Result struct {
	summary.Header // Kind "inventory"
	Run
	Errors []string `json:"errors,omitempty"`
}

// Handle serves one scheduled invocation.
func (h *Handler) Handle(ctx context.Context, _ Event) (Result, error) { return h.Run(ctx) }

// Run takes today's snapshot, once, and publishes the summary and metrics.
func (h *Handler) Run(ctx context.Context) (Result, error) {
	ctx, runID := app.StartRun(ctx)
	start := time.Now()
	res := Result{Header: summary.Header{Kind: "inventory", RunID: runID, StartedAt: h.now().UTC()}}
	err := h.run(ctx, &res)
	if err != nil {
		res.Errors = append(res.Errors, logging.Redact(err.Error()))
		h.deps.Log.ErrorContext(ctx, "snapshot failed: no manifest written", "error", err.Error(), "dt", res.Date)
	} else {
		h.deps.Log.InfoContext(ctx, "snapshot", "outcome", string(res.Outcome), "dt", res.Date, "manifest", res.Manifest,
			"tables", len(res.Tables), "api_calls", res.APICalls, "replaced", res.Replaced)
	}
	res.DurationMs = time.Since(start).Milliseconds()

	rec := h.deps.Metrics()
	var records int64
	for _, t := range res.Tables {
		records += t.Records
	}
	if res.Outcome == Written {
		rec.Count(MetricRecords, int(records))
		rec.Count(MetricObjects, len(res.Tables))
		rec.Count(MetricSnapshots, 1)
	}
	rec.Count(MetricAPICalls, int(res.APICalls))
	rec.Count(MetricFailed, boolInt(err != nil))
	rec.Add(MetricRunDurationMs, float64(res.DurationMs), metrics.Milliseconds)
	perr := h.deps.Summary().Publish(ctx, res, summary.Status{Failed: err != nil})
	if perr != nil {
		h.deps.Log.ErrorContext(ctx, "summary not published", "error", perr.Error())
	}
	if ferr := rec.Flush(); ferr != nil {
		perr = errors.Join(perr, ferr)
	}
	return res, errors.Join(err, perr)
}

func (h *Handler) run(ctx context.Context, res *Result) error {
	if h.store == nil {
		return errors.New("no S3 client configured")
	}
	// Never a dry run: the snapshot changes nothing in the organization,
	// and the client refuses every non-GET anyway when in dry run.
	api, err := h.deps.AdminClient(ctx, false)
	if err != nil {
		return err
	}
	s := &Snapshotter{Store: h.store, Layout: h.cfg.Layout(), Log: h.deps.Log}
	run, err := s.Snapshot(ctx, api, h.now)
	res.Run = run
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

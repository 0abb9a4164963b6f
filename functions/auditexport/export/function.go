package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/summary"
)

// Function is the function's name in metrics, logs and the CLI.
const Function = "auditexport"

// Metric names the stack's alarms rely on (docs/architecture.md).
const (
	MetricEventsExported = "EventsExported"
	MetricObjectsWritten = "ObjectsWritten"
	MetricExportLag      = "ExportLagSeconds"
	MetricCoverageAge    = "ExportCoverageAgeSeconds"
	MetricRunDuration    = "RunDurationMs"
	// MetricForeignObjects counts objects found at keys the export was
	// about to write that it did not write: alarm on any.
	MetricForeignObjects = "ForeignObjects"
)

// Option adjusts the Handler FromEnv builds.
type Option func(*handlerOptions)

type handlerOptions struct{ now func() time.Time }

// WithClock replaces time.Now, e.g. with an emulator's clock, so the
// export's lookback and lag are judged by the organization's time.
func WithClock(now func() time.Time) Option { return func(o *handlerOptions) { o.now = now } }

// Handler is the Lambda handler, built once per container.
type Handler struct {
	deps     *app.Deps
	cfg      Config
	exporter *Exporter
	after    AfterRun
}

// AfterRun is handed each run's result after the export is done: its
// generation sealed and its checkpoint durable, so nothing it does can
// delay or undo the export (package detect evaluates the detection rules
// here). Its report goes into the run's summary; its error is logged and
// marks the summary failed, but does not fail the export, which already
// succeeded.
type AfterRun func(ctx context.Context, res Result, m *metrics.Recorder) (report any, err error)

// SetAfterRun installs h, called after every run that was not a dry run
// and not skipped.
func (h *Handler) SetAfterRun(after AfterRun) { h.after = after }

// FromEnv reads the configuration (the common variables and the export's
// own) and builds the function. Every configuration problem is reported in
// one error. options are for the CLI's demo (WithClock).
func FromEnv(ctx context.Context, env config.Lookup, opts app.Options, options ...Option) (*Handler, error) {
	r := config.NewReader(env)
	cfg := ReadConfig(r)
	deps, err := app.Load(ctx, Function, r, opts)
	if err != nil {
		return nil, err
	}
	var o handlerOptions
	for _, opt := range options {
		opt(&o)
	}
	x, err := New(cfg, deps.AWS.S3, Options{Logger: deps.Log, Now: o.now})
	if err != nil {
		return nil, err
	}
	// A run killed while writing leaves its spool files in /tmp, which
	// Lambda keeps for the next invocation in the same sandbox: those whose
	// writer is dead go now, those of a live run stay.
	if n, err := objects.RemoveOrphanSpool(""); n > 0 || err != nil {
		deps.Log.InfoContext(ctx, "removed stale spool files", "files", n, "error", errString(err))
	}
	return &Handler{deps: deps, cfg: cfg, exporter: x}, nil
}

// Config is the function's export configuration.
func (h *Handler) Config() Config { return h.cfg }

// Exporter is the function's exporter.
func (h *Handler) Exporter() *Exporter { return h.exporter }

// Deps are the function's shared dependencies.
func (h *Handler) Deps() *app.Deps { return h.deps }

// Event is what the Lambda receives: the EventBridge schedule's event, or
// a payload asking for a backfill, {"since": "2025-01-01", "until": ...},
// given either at the top level (a direct invocation, or a rule's constant
// input) or as an EventBridge event's detail. Times are dates (UTC),
// RFC 3339 times or unix seconds.
type Event struct {
	events.EventBridgeEvent
	EventOptions
}

// EventOptions are the run options an event may carry.
type EventOptions struct {
	Since  string `json:"since,omitempty"`
	Until  string `json:"until,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
	// RebuildCheckpoint rebuilds a lost checkpoint from the digest chain
	// (docs/runbook.md, "Lost checkpoint").
	RebuildCheckpoint bool `json:"rebuild_checkpoint,omitempty"`
}

// Request turns the event into a run request.
func (e Event) Request() (Request, error) {
	o := e.EventOptions
	if len(e.Detail) > 0 && o == (EventOptions{}) {
		var d EventOptions
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			return Request{}, fmt.Errorf("event detail: %w", err)
		}
		o = d
	}
	return o.Request()
}

// Request parses the options.
func (o EventOptions) Request() (Request, error) {
	req := Request{DryRun: o.DryRun, RebuildCheckpoint: o.RebuildCheckpoint}
	var err error
	if o.Since != "" {
		if req.Since, err = ParseTime(o.Since); err != nil {
			return Request{}, fmt.Errorf("since: %w", err)
		}
		// A backfill from the future would find nothing and succeed:
		// almost certainly a typo in the year.
		if now := time.Now(); req.Since > now.Unix() {
			return Request{}, fmt.Errorf("since %s is in the future (now is %s)", o.Since, now.UTC().Format(time.RFC3339))
		}
	}
	if o.Until != "" {
		if o.Since == "" {
			return Request{}, errors.New("until needs since")
		}
		if req.Until, err = ParseTime(o.Until); err != nil {
			return Request{}, fmt.Errorf("until: %w", err)
		}
		if req.Until <= req.Since {
			return Request{}, fmt.Errorf("until %s is not after since %s", o.Until, o.Since)
		}
	}
	return req, nil
}

// ParseTime reads a date (2025-01-01, UTC midnight), an RFC 3339 time or
// unix seconds.
func ParseTime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Unix(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	return 0, fmt.Errorf("%q: want a date (2025-01-01), an RFC 3339 time or unix seconds", s)
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, ev Event) (Result, error) {
	req, err := ev.Request()
	if err != nil {
		h.deps.Log.ErrorContext(ctx, "bad event", "error", err.Error())
		return Result{}, fmt.Errorf("audit export event: %w", err)
	}
	return h.Run(ctx, req)
}

// Run runs one export with the function's configuration, records its
// metrics and publishes its summary. The configured dry run wins over the
// request's.
func (h *Handler) Run(ctx context.Context, req Request) (Result, error) {
	ctx, _ = app.StartRun(ctx)
	start := time.Now()
	req.DryRun = req.DryRun || h.deps.Common.DryRun
	m := h.deps.Metrics()
	defer func() {
		if err := m.Flush(); err != nil {
			h.deps.Log.WarnContext(ctx, "flush metrics", "error", err.Error())
		}
	}()

	api, err := h.deps.AdminClient(ctx, req.DryRun)
	if err != nil {
		return Result{RunID: logging.RunID(ctx)}, err
	}
	res, err := h.exporter.Run(ctx, api, req)
	m.Count(MetricEventsExported, int(res.Events))
	m.Count(MetricObjectsWritten, res.Objects)
	m.Count(MetricForeignObjects, len(res.Foreign))
	if res.Newest > 0 {
		m.Set(MetricExportLag, float64(res.LagSeconds), metrics.Seconds)
	}
	if res.CoverageAgeSeconds != nil {
		m.Set(MetricCoverageAge, float64(*res.CoverageAgeSeconds), metrics.Seconds)
	}
	m.Set(MetricRunDuration, float64(time.Since(start).Milliseconds()), metrics.Milliseconds)

	s := struct {
		Result
		Error      string `json:"error,omitempty"`
		After      any    `json:"detection,omitempty"`
		AfterError string `json:"detection_error,omitempty"`
	}{Result: res}
	if err != nil {
		s.Error = logging.Redact(err.Error())
	}
	var afterErr error
	if h.after != nil && !req.DryRun && res.Skipped == "" && !errors.Is(err, ErrLostCheckpoint) {
		s.After, afterErr = h.after(ctx, res, m)
		if afterErr != nil {
			s.AfterError = logging.Redact(afterErr.Error())
			h.deps.Log.ErrorContext(ctx, "after the export", "error", s.AfterError)
		}
	}
	// The export only adds to its own bucket: it never changes the
	// organization, so only a failure is worth a person's attention.
	if perr := h.deps.Summary().Publish(ctx, s, summary.Status{Failed: err != nil || afterErr != nil}); perr != nil {
		h.deps.Log.WarnContext(ctx, "publish summary", "error", perr.Error())
	}
	return res, err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

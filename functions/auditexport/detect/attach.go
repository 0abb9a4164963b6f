package detect

import (
	"context"
	"fmt"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/metrics"
)

// Attach reads detection's configuration from env and, when ORGWARDEN_DETECT
// is on, evaluates the rules after every export run of f: over the
// generations sealed since the last evaluation, once the export's
// checkpoint is durable. A detection failure is logged, counted
// (DetectionErrors, which the stack alarms on) and reported in the run's
// summary; the export's own result stands, and the next run evaluates the
// same generations again.
func Attach(f *export.Handler, env config.Lookup, options ...Option) (*Detector, error) {
	r := config.NewReader(env)
	cfg := ReadConfig(r)
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("detection configuration: %w", err)
	}
	if !cfg.Enabled {
		return nil, nil
	}
	deps := f.Deps()
	var eb eventPutter
	if deps.AWS != nil && deps.AWS.EventBridge != nil {
		eb = deps.AWS.EventBridge
	}
	region, _ := env("AWS_REGION")
	opts := append([]Option{WithLogger(deps.Log), WithRegion(region)}, options...)
	d, err := New(cfg, f.Config(), deps.AWS.S3, eb, opts...)
	if err != nil {
		return nil, err
	}
	f.SetAfterRun(func(ctx context.Context, res export.Result, m *metrics.Recorder) (any, error) {
		rep, err := d.Run(ctx, res.Generation)
		m.Count(MetricFindings, len(rep.Findings))
		m.Count(MetricEventsEvaluated, int(rep.Events))
		failed := 0
		if err != nil {
			failed = 1
			rep.Error = err.Error()
		}
		m.Count(MetricDetectionErrors, failed)
		return rep, err
	})
	return d, nil
}

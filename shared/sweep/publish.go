package sweep

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/summary"
)

// Publish ends a run: the summary is logged and sent to the bus (its full
// report to the report bucket), then the metrics are written. Metrics are
// written even when the bus or the bucket fails, so the alarms still see
// the run; that failure is returned.
func Publish(ctx context.Context, p *summary.Publisher, rec *metrics.Recorder, s any, st summary.Status) error {
	perr := p.Publish(ctx, s, st)
	if perr != nil {
		p.Log.ErrorContext(ctx, "summary not published", "error", perr)
	}
	if ferr := rec.Flush(); ferr != nil {
		return errors.Join(perr, fmt.Errorf("flush metrics: %w", ferr))
	}
	return perr
}

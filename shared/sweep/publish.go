package sweep

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/summary"
)

// Publish ends a run: the summary is logged and sent to the bus, then the
// metrics are written. Metrics are written even when the bus fails, so the
// alarms still see the run; the bus failure is returned.
func Publish(ctx context.Context, p *summary.Publisher, rec *metrics.Recorder, s any) error {
	perr := p.Publish(ctx, s)
	if perr != nil {
		p.Log.ErrorContext(ctx, "summary not published", "error", perr)
	}
	if ferr := rec.Flush(); ferr != nil {
		return errors.Join(perr, fmt.Errorf("flush metrics: %w", ferr))
	}
	return perr
}

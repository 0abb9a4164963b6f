// Package summary publishes the result of a run where operators look: one
// JSON log line, and, when a bus is configured, an EventBridge event that
// teams route to Slack, email or a ticket queue.
package summary

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// Source is the EventBridge source of every orgwarden event.
const Source = "orgwarden"

// Header opens the summary of a scheduled run. Summaries embed it first, and
// encoding/json flattens embedded fields, so its fields lead their JSON.
// It has no methods on purpose: a String or MarshalJSON would be promoted to
// every summary embedding it and change how it is logged and published.
type Header struct {
	Kind       string    `json:"kind"`
	RunID      string    `json:"run_id"`
	DryRun     bool      `json:"dry_run"`
	StartedAt  time.Time `json:"started_at"`
	DurationMs int64     `json:"duration_ms"`
}

// Publisher publishes run summaries for one function.
type Publisher struct {
	Function string
	Bus      string // empty: log only
	Events   *eventbridge.Client
	Log      *slog.Logger
}

// DetailType is the EventBridge detail-type of a function's summaries,
// e.g. "orgwarden.invitecleanup.summary".
func DetailType(function string) string { return "orgwarden." + function + ".summary" }

// Publish logs s as one line ("summary") and sends it to the bus. The log
// line is written first and always, so a bus failure loses nothing.
func (p *Publisher) Publish(ctx context.Context, s any) error {
	p.Log.InfoContext(ctx, "summary", slog.Any("summary", s))
	if p.Bus == "" {
		return nil
	}
	detail, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	out, err := p.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(p.Bus),
		Source:       aws.String(Source),
		DetailType:   aws.String(DetailType(p.Function)),
		Detail:       aws.String(string(detail)),
	}}})
	if err != nil {
		return fmt.Errorf("publish summary to %s: %w", p.Bus, err)
	}
	if out.FailedEntryCount > 0 {
		e := out.Entries[0]
		return fmt.Errorf("publish summary to %s: %s: %s", p.Bus, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
	}
	return nil
}

package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// ScheduleEvent is what a scheduled cleanup receives. EventBridge Scheduler
// passes the schedule's input as it is, so the accepted shapes are:
//
//   - {} (or an empty payload / null): a normal run;
//   - {"dry_run": true}: a preview, whatever ORGWARDEN_DRY_RUN says;
//   - an EventBridge event ({"detail-type": ..., "source": ..., "detail": ...})
//     from a scheduled rule, whose detail may itself be {"dry_run": true}.
//
// Anything else is refused with an error naming what was received, so a
// mis-wired trigger fails loudly instead of running a cleanup.
type ScheduleEvent struct {
	// DryRun asks for a preview. It can only make a run safer: the
	// configured dry run still applies when this is false.
	DryRun bool
	// EventBridge is the scheduled event, when the run was triggered by one.
	EventBridge *events.EventBridgeEvent
}

// UnmarshalJSON decides the shape (see ScheduleEvent).
func (e *ScheduleEvent) UnmarshalJSON(b []byte) error {
	ev, err := ParseScheduleEvent(b)
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

// ParseScheduleEvent reads a scheduled run's payload.
func ParseScheduleEvent(b []byte) (ScheduleEvent, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return ScheduleEvent{}, nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return ScheduleEvent{}, errors.New("scheduled event: not a JSON object")
	}
	if _, ok := keys["detail-type"]; ok {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			return ScheduleEvent{}, fmt.Errorf("scheduled event: EventBridge event: %w", err)
		}
		if ev.Source == "" {
			return ScheduleEvent{}, errors.New("scheduled event: EventBridge event without a source")
		}
		dryRun, err := dryRunOf(ev.Detail)
		if err != nil {
			return ScheduleEvent{}, fmt.Errorf("scheduled event: detail: %w", err)
		}
		return ScheduleEvent{DryRun: dryRun, EventBridge: &ev}, nil
	}
	dryRun, err := dryRunOf(b)
	if err != nil {
		return ScheduleEvent{}, fmt.Errorf("scheduled event: %w", err)
	}
	return ScheduleEvent{DryRun: dryRun}, nil
}

// dryRunOf reads {} or {"dry_run": bool}; other keys are refused.
func dryRunOf(b json.RawMessage) (bool, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return false, errors.New("want a JSON object: {} or {\"dry_run\": true}")
	}
	var unknown []string
	for k := range m {
		if k != "dry_run" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return false, fmt.Errorf("unexpected field(s) %s: want {} or {\"dry_run\": true}", quoteAll(unknown))
	}
	raw, ok := m["dry_run"]
	if !ok {
		return false, nil
	}
	var dry bool
	if err := json.Unmarshal(raw, &dry); err != nil {
		return false, errors.New("dry_run must be true or false")
	}
	return dry, nil
}

func quoteAll(names []string) string {
	const show = 5
	q := make([]string, 0, min(len(names), show)+1)
	for i, n := range names {
		if i == show {
			q = append(q, fmt.Sprintf("and %d more", len(names)-show))
			break
		}
		if len(n) > 40 {
			n = n[:40] + "..."
		}
		// Field names come from outside; never echo key material back.
		q = append(q, fmt.Sprintf("%q", logging.Redact(n)))
	}
	return strings.Join(q, ", ")
}

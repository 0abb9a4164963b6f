// Package summary publishes the result of a run where operators look: one
// JSON log line, and, when a bus is configured, an EventBridge event that
// teams route to Slack, email or a ticket queue.
//
// A run can touch thousands of items, and both destinations have limits
// (an EventBridge entry and a CloudWatch Logs event hold 256 KiB each). The
// log line and the event therefore carry the summary with every list cut to
// its first items, a truncated flag and the number left out; when a report
// bucket is configured, the full summary is written there as JSON and CSV
// first, and the event links to it.
package summary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// Source is the EventBridge source of every orgwarden event.
const Source = "orgwarden"

// Limits of the published summary. MaxDetailBytes keeps the event far below
// EventBridge's 256 KiB entry (and an SNS message's 256 KiB once
// EventBridge wraps it), and the log line far below CloudWatch Logs' 256 KiB
// event, which truncates longer lines.
const (
	DefaultMaxItems       = 25
	DefaultMaxDetailBytes = 64 * 1024
	maxStringBytes        = 1024
)

// Fields orgwarden adds to every published summary; a summary's own fields
// of the same name are replaced.
const (
	FieldFunction = "function"
	// FieldOrganization names the OpenAI organization the run was about
	// (ORGWARDEN_ORG_ID; "" when not configured).
	FieldOrganization = "organization"
	FieldChanged      = "changed"
	FieldFailed       = "failed"
	FieldCapExceeded  = "cap_exceeded"
	FieldAlerts       = "alerts"
	FieldReport       = "report"
	FieldReportError  = "report_error"
	FieldTruncated    = "truncated"
	FieldLeftOut      = "left_out"
	FieldLeftOutBy    = "left_out_by_list"
	// FieldFieldsLeftOut names the top-level objects and lists left out
	// when even empty lists did not fit (see Publisher.bound).
	FieldFieldsLeftOut = "fields_left_out"
)

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

// Status is what a run came to, as rules on the summary bus match it: the
// published summary carries each as a boolean, and the ones that hold in
// the list "alerts" (["changed", "failed", "cap_exceeded"], or []).
type Status struct {
	// Changed: the run changed the organization (deleted, revoked,
	// rotated). A dry run never changes anything.
	Changed bool
	// Failed: the run, or part of it, failed.
	Failed bool
	// CapExceeded: the run planned more deletions than
	// ORGWARDEN_MAX_DELETIONS allows and deleted none of them.
	CapExceeded bool
}

// Alerts returns the names of the conditions that hold.
func (s Status) Alerts() []string {
	out := []string{}
	if s.Changed {
		out = append(out, FieldChanged)
	}
	if s.Failed {
		out = append(out, FieldFailed)
	}
	if s.CapExceeded {
		out = append(out, FieldCapExceeded)
	}
	return out
}

// EventPutter sends events; *eventbridge.Client is one.
type EventPutter interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Publisher publishes run summaries for one function.
type Publisher struct {
	Function string
	// Organization is the OpenAI organization id every summary names.
	Organization string
	Bus          string // empty: log only
	Events       EventPutter
	Log          *slog.Logger

	// ReportBucket receives the full report (empty: none); ReportPrefix
	// starts its keys.
	ReportBucket string
	ReportPrefix string
	Reports      ObjectPutter

	// MaxItems and MaxDetailBytes bound the published summary; zero means
	// DefaultMaxItems and DefaultMaxDetailBytes.
	MaxItems       int
	MaxDetailBytes int
	// Now dates the report's key; nil means time.Now.
	Now func() time.Time
}

// DetailType is the EventBridge detail-type of a function's summaries,
// e.g. "orgwarden.invitecleanup.summary".
func DetailType(function string) string { return "orgwarden." + function + ".summary" }

// Publish writes the full report (when a bucket is configured), logs the
// bounded summary as one line ("summary") and sends it to the bus. The log
// line is written whatever happened to the report, so a bucket or bus
// failure loses nothing the line could hold; the failures are returned.
func (p *Publisher) Publish(ctx context.Context, s any, st Status) error {
	full, tree, err := p.document(s, st)
	if err != nil {
		p.Log.ErrorContext(ctx, "summary not encoded", "error", err.Error())
		return fmt.Errorf("encode summary: %w", err)
	}
	var (
		report Report
		rerr   error
	)
	switch {
	case p.ReportBucket != "" && p.Reports == nil:
		rerr = fmt.Errorf("report bucket %s: no S3 client", p.ReportBucket)
	case p.ReportBucket != "":
		at := time.Now()
		if p.Now != nil {
			at = p.Now()
		}
		report, rerr = p.writeReport(ctx, reportKey(p.ReportPrefix, p.Function, logging.RunID(ctx), at, full), full, tree)
	}
	detail, err := p.bound(tree, report, rerr)
	if err != nil {
		p.Log.ErrorContext(ctx, "summary not encoded", "error", err.Error())
		return errors.Join(rerr, fmt.Errorf("encode summary: %w", err))
	}
	p.Log.InfoContext(ctx, "summary", slog.Any("summary", json.RawMessage(detail)))
	switch {
	case p.Bus == "":
		return rerr
	case p.Events == nil:
		return errors.Join(rerr, fmt.Errorf("publish summary to %s: no EventBridge client", p.Bus))
	}
	return errors.Join(rerr, p.send(ctx, detail))
}

// document is the full summary: orgwarden's fields, then the summary's.
// Key material never belongs in a summary; it is masked here anyway, so a
// key pasted into a name cannot reach the bus or the bucket.
func (p *Publisher) document(s any, st Status) ([]byte, *object, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, nil, err
	}
	v, err := parse([]byte(logging.Redact(string(b))))
	if err != nil {
		return nil, nil, err
	}
	doc := newObject()
	doc.set(FieldFunction, p.Function)
	doc.set(FieldOrganization, p.Organization)
	doc.set(FieldChanged, st.Changed)
	doc.set(FieldFailed, st.Failed)
	doc.set(FieldCapExceeded, st.CapExceeded)
	doc.set(FieldAlerts, toAny(st.Alerts()))
	if o, ok := v.(*object); ok {
		for _, k := range o.keys {
			if _, reserved := doc.get(k); !reserved {
				doc.set(k, o.vals[k])
			}
		}
	} else {
		doc.set("summary", v)
	}
	full, err := json.Marshal(doc)
	return full, doc, err
}

// statusFields lead every document, in this order.
var statusFields = []string{FieldFunction, FieldOrganization, FieldChanged, FieldFailed, FieldCapExceeded, FieldAlerts}

// ownFields returns the summary's own fields of a document.
func ownFields(doc *object) *object {
	own := newObject()
	for _, k := range doc.keys {
		if !slices.Contains(statusFields, k) {
			own.set(k, doc.vals[k])
		}
	}
	return own
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// bound returns the published summary: the document with the report's
// location, every list cut to its first items and long strings cut, within
// MaxDetailBytes. It cuts to fewer items until the summary fits, and as a
// last resort keeps only the top-level plain values (counts objects go
// with the lists, orgwarden's own fields stay).
func (p *Publisher) bound(doc *object, report Report, rerr error) ([]byte, error) {
	maxItems := p.MaxItems
	if maxItems <= 0 {
		maxItems = DefaultMaxItems
	}
	maxBytes := p.MaxDetailBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxDetailBytes
	}
	src := ownFields(doc) // what is cut
	withMeta := func(body *object, c *cutter) *object {
		out := newObject()
		for _, k := range statusFields {
			v, _ := doc.get(k)
			out.set(k, v)
		}
		if report.JSON != "" {
			out.set(FieldReport, report)
		}
		if rerr != nil {
			out.set(FieldReportError, logging.Redact(rerr.Error()))
		}
		for _, k := range body.keys {
			if _, ok := out.get(k); !ok {
				out.set(k, body.vals[k])
			}
		}
		out.set(FieldTruncated, c.total > 0 || c.cutStrings || len(c.dropped) > 0)
		out.set(FieldLeftOut, c.total)
		if len(c.dropped) > 0 {
			out.set(FieldFieldsLeftOut, toAny(c.dropped))
		}
		if c.total > 0 {
			by := newObject()
			for _, k := range sortedKeys(c.leftOut) {
				by.set(k, c.leftOut[k])
			}
			out.set(FieldLeftOutBy, by)
		}
		return out
	}
	var last []byte
	for n := maxItems; ; n /= 2 {
		c := &cutter{maxItems: n, maxString: maxStringBytes, leftOut: map[string]int{}}
		body := c.cut(src, "").(*object)
		b, err := json.Marshal(withMeta(body, c))
		if err != nil {
			return nil, err
		}
		if len(b) <= maxBytes {
			return b, nil
		}
		last = b
		if n == 0 {
			break
		}
	}
	// Still too large with empty lists: keep the plain top-level values.
	c := &cutter{maxItems: 0, maxString: maxStringBytes, leftOut: map[string]int{}}
	cut := c.cut(src, "").(*object)
	body := newObject()
	for _, k := range cut.keys {
		switch cut.vals[k].(type) {
		case *object, []any:
			c.dropped = append(c.dropped, k)
		default:
			body.set(k, cut.vals[k])
		}
	}
	b, err := json.Marshal(withMeta(body, c))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBytes {
		return nil, fmt.Errorf("summary of %d bytes does not fit in %d even without its lists", len(last), maxBytes)
	}
	return b, nil
}

func (p *Publisher) send(ctx context.Context, detail []byte) error {
	out, err := p.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(p.Bus),
		Source:       aws.String(Source),
		DetailType:   aws.String(DetailType(p.Function)),
		Detail:       aws.String(string(detail)),
	}}})
	if err != nil {
		return fmt.Errorf("publish summary to %s: %w", p.Bus, err)
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		e := out.Entries[0]
		return fmt.Errorf("publish summary to %s: %s: %s", p.Bus, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
	}
	return nil
}

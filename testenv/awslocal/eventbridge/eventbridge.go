// Package eventbridge emulates EventBridge PutEvents over its real wire
// protocol (AWS JSON 1.1, X-Amz-Target: AWSEvents.PutEvents) and records
// every accepted event for tests to inspect. Rules and targets are not
// emulated: an event is recorded, not delivered. Every bus name is accepted.
//
// PutEvents' limits are enforced as AWS enforces them, so a caller that
// passes here fits in production: 1 to 10 entries and at most 256 KiB in
// all (sized as AWS documents, see entrySize) or the whole request fails
// with a ValidationException; within a request, each entry fails on its own
// with AWS's error code (InvalidArgument, MalformedDetail,
// NotAuthorizedForSourceException) at its position in the result.
package eventbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/awslocal/awsjson"
	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/ids"
)

// MaxRequestBytes is EventBridge's size limit for one PutEvents request:
// the sum of its entries' sizes (entrySize). Above it, EventBridge refuses
// the whole request with a ValidationException and records nothing.
const MaxRequestBytes = 256 * 1024

// MaxEntries is the most entries one PutEvents request may carry.
const MaxEntries = 10

// Event is one accepted PutEvents entry.
type Event struct {
	ID         string
	Source     string
	DetailType string
	// Detail is the JSON object the entry carried.
	Detail json.RawMessage
	// EventBusName is the bus name, "default" when the entry named none,
	// and the name part when it named the bus by ARN.
	EventBusName string
	Resources    []string
	// Time is the entry's Time, or when the event arrived if it had none.
	Time     time.Time
	Received time.Time
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now for event receipt times.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger receives one debug line per request.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.logger = l } }

// Server is an EventBridge endpoint on loopback.
type Server struct {
	// URL is the endpoint for BaseEndpoint or AWS_ENDPOINT_URL_EVENTBRIDGE.
	URL string

	api    *awsjson.Service
	srv    *httptest.Server
	now    func() time.Time
	logger *slog.Logger

	mu     sync.Mutex
	events []Event
}

// Start serves EventBridge on a loopback port.
func Start(opts ...Option) (*Server, error) {
	s := &Server{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	api, srv, err := awsjson.Serve(awsjson.Config{TargetPrefix: "AWSEvents", Version: "1.1", Logger: s.logger}, func(api *awsjson.Service) {
		api.Handle("PutEvents", awsjson.Op(s.putEvents))
	})
	if err != nil {
		return nil, fmt.Errorf("start local eventbridge: %w", err)
	}
	s.api, s.srv, s.URL = api, srv, srv.URL
	return s, nil
}

// Client returns a real SDK client for this server.
func (s *Server) Client(optFns ...func(*awseb.Options)) *awseb.Client {
	opts := append([]func(*awseb.Options){func(o *awseb.Options) {
		o.BaseEndpoint = aws.String(s.URL)
	}}, optFns...)
	return awseb.NewFromConfig(awslocal.Config(), opts...)
}

// Events returns every accepted event, oldest first.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, e := range s.events {
		e.Detail = slices.Clone(e.Detail)
		e.Resources = slices.Clone(e.Resources)
		out[i] = e
	}
	return out
}

// Requests returns the request log.
func (s *Server) Requests() []awsjson.Request { return s.api.Requests() }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

type entry struct {
	Source       *string            `json:"Source"`
	DetailType   *string            `json:"DetailType"`
	Detail       *string            `json:"Detail"`
	EventBusName *string            `json:"EventBusName"`
	Resources    []string           `json:"Resources"`
	Time         *awsjson.Timestamp `json:"Time"`
	TraceHeader  *string            `json:"TraceHeader"`
}

type putEventsInput struct {
	Entries []entry `json:"Entries"`
}

type resultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type putEventsOutput struct {
	FailedEntryCount int           `json:"FailedEntryCount"`
	Entries          []resultEntry `json:"Entries"`
}

func (s *Server) putEvents(_ context.Context, in *putEventsInput) (*putEventsOutput, error) {
	if n := len(in.Entries); n < 1 || n > MaxEntries {
		return nil, awsjson.Errorf("ValidationException", "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	total := 0
	for _, e := range in.Entries {
		total += entrySize(e)
	}
	if total > MaxRequestBytes {
		return nil, awsjson.Errorf("ValidationException", "Total size of the entries in the request is over the limit.")
	}

	now := s.now()
	out := &putEventsOutput{Entries: make([]resultEntry, 0, len(in.Entries))}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range in.Entries {
		code, msg := validate(e)
		if code != "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, resultEntry{ErrorCode: code, ErrorMessage: msg})
			continue
		}
		ev := Event{
			ID: ids.UUID(), Source: *e.Source, DetailType: *e.DetailType, Detail: json.RawMessage(*e.Detail),
			EventBusName: busName(e.EventBusName), Resources: slices.Clone(e.Resources), Time: now, Received: now,
		}
		if e.Time != nil {
			ev.Time = e.Time.Time()
		}
		s.events = append(s.events, ev)
		out.Entries = append(out.Entries, resultEntry{EventID: ev.ID})
	}
	return out, nil
}

// validate returns the entry-level error EventBridge would report.
func validate(e entry) (code, message string) {
	required := func(name string, v *string) (string, string) {
		if v == nil || *v == "" {
			return "InvalidArgument", fmt.Sprintf("Parameter %s is not valid. Reason: %s is a required argument.", name, name)
		}
		return "", ""
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"Source", e.Source}, {"DetailType", e.DetailType}, {"Detail", e.Detail}} {
		if code, msg := required(f.name, f.v); code != "" {
			return code, msg
		}
	}
	if strings.HasPrefix(*e.Source, "aws.") {
		return "NotAuthorizedForSourceException", "Not authorized for the source."
	}
	// Detail must be a JSON object; "null" decodes into a nil map without
	// error, so the object itself is checked.
	var obj map[string]any
	if err := json.Unmarshal([]byte(*e.Detail), &obj); err != nil || obj == nil {
		return "MalformedDetail", "Detail is malformed."
	}
	return "", ""
}

func busName(v *string) string {
	if v == nil || *v == "" {
		return "default"
	}
	if name, ok := strings.CutPrefix(*v, "arn:"); ok {
		if i := strings.LastIndex(name, "event-bus/"); i >= 0 {
			return name[i+len("event-bus/"):]
		}
	}
	return *v
}

// entrySize follows EventBridge's documented calculation: the UTF-8 bytes
// of Source, DetailType, Detail and Resources, plus 14 bytes for a Time.
func entrySize(e entry) int {
	n := 0
	for _, s := range []*string{e.Source, e.DetailType, e.Detail} {
		if s != nil {
			n += len(*s)
		}
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	if e.Time != nil {
		n += 14
	}
	return n
}

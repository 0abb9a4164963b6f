// Package awsjson serves the AWS JSON protocols (awsJson1_0 and awsJson1_1)
// that Secrets Manager, SQS and EventBridge speak: every call is a POST to
// "/" whose X-Amz-Target header names the operation, with a JSON body in and
// a JSON body out. Errors are JSON bodies carrying "__type" and "message".
//
// A Service dispatches on the target, decodes the input, encodes the output
// or the error with the right status, and keeps a request log that tests can
// assert on. The emulators register one Operation per API call.
package awsjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/ids"
	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/loopback"
)

// maxBodyBytes bounds a request body. The largest real inputs (SQS batches,
// Secrets Manager values) are far below it.
const maxBodyBytes = 16 << 20

// Error is an AWS error response. Operations return it to choose the error
// type and status the client sees; any other error becomes a 500.
type Error struct {
	// Type is the error shape name, e.g. "ResourceNotFoundException". The SDK
	// maps it to its typed error (types.ResourceNotFoundException).
	Type string
	// Message is the human-readable text AWS puts in "message".
	Message string
	// Status is the HTTP status; zero means 400, as for most AWS JSON errors.
	Status int
	// QueryCode is the legacy Query-protocol error code that services marked
	// awsQueryCompatible (SQS) also send in the x-amzn-query-error header,
	// e.g. "AWS.SimpleQueueService.NonExistentQueue". The SDK reports it as
	// the error code.
	QueryCode string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Errorf builds a 400 Error of the given type.
func Errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Operation handles one API call: body is the raw JSON input, the result is
// marshalled as the JSON output.
type Operation func(ctx context.Context, body []byte) (any, error)

// Op adapts a typed handler to an Operation: the body is decoded into In and
// a decoding failure is reported as AWS reports malformed input.
func Op[In, Out any](fn func(ctx context.Context, in *In) (*Out, error)) Operation {
	return func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if len(body) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, Errorf("SerializationException", "cannot decode request body: %v", err)
			}
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// Config describes one JSON-protocol service.
type Config struct {
	// TargetPrefix is the X-Amz-Target text before the dot:
	// "secretsmanager", "AmazonSQS", "AWSEvents".
	TargetPrefix string
	// Version is the protocol version, "1.0" or "1.1"; it fixes the content
	// type application/x-amz-json-<Version>.
	Version string
	// ErrorNamespace, when set, qualifies "__type" as "<namespace>#<Type>",
	// as SQS does ("com.amazonaws.sqs#QueueDoesNotExist").
	ErrorNamespace string
	// InternalErrorType is the error type of unexpected failures
	// ("InternalServiceError" for Secrets Manager, "InternalFailure" else).
	InternalErrorType string
	// Redact names input fields whose values the request log masks, at any
	// depth (for example "SecretString"), so that logged requests never carry
	// key material.
	Redact []string
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
}

// Request is one entry of the request log.
type Request struct {
	Time      time.Time
	Operation string
	// Input is the request body with the configured fields masked.
	Input json.RawMessage
	// Status is the HTTP status of the answer; ErrorType is set on failures.
	Status    int
	ErrorType string
}

// Service dispatches JSON-protocol requests to registered operations.
type Service struct {
	cfg    Config
	redact map[string]bool
	logger *slog.Logger

	mu       sync.Mutex
	ops      map[string]Operation
	requests []Request
}

// New returns a Service with no operations.
func New(cfg Config) *Service {
	if cfg.InternalErrorType == "" {
		cfg.InternalErrorType = "InternalFailure"
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	redact := make(map[string]bool, len(cfg.Redact))
	for _, f := range cfg.Redact {
		redact[f] = true
	}
	return &Service{cfg: cfg, redact: redact, logger: logger, ops: map[string]Operation{}}
}

// Serve builds a Service for cfg, lets register add its operations and
// serves it on a free loopback port: the start of every JSON-protocol
// emulator.
func Serve(cfg Config, register func(*Service)) (*Service, *httptest.Server, error) {
	api := New(cfg)
	register(api)
	srv, err := loopback.Serve(api)
	if err != nil {
		return nil, nil, err
	}
	return api, srv, nil
}

// Handle registers the operation called name (the text after the dot in
// X-Amz-Target).
func (s *Service) Handle(name string, op Operation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[name] = op
}

// Requests returns a copy of the request log, oldest first.
func (s *Service) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests named op were served.
func (s *Service) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Operation == op {
			n++
		}
	}
	return n
}

func (s *Service) contentType() string { return "application/x-amz-json-" + s.cfg.Version }

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", ids.UUID())
	if r.Method != http.MethodPost {
		s.writeError(w, "", nil, &Error{Type: "UnknownOperationException", Message: "only POST is supported", Status: http.StatusMethodNotAllowed})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	prefix, name, ok := strings.Cut(target, ".")
	if !ok || prefix != s.cfg.TargetPrefix {
		s.writeError(w, target, nil, Errorf("UnknownOperationException", "unknown target %q", target))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		s.writeError(w, name, nil, &Error{Type: "SerializationException", Message: fmt.Sprintf("read request body: %v", err), Status: http.StatusRequestEntityTooLarge})
		return
	}
	s.mu.Lock()
	op := s.ops[name]
	s.mu.Unlock()
	if op == nil {
		s.writeError(w, name, body, Errorf("UnknownOperationException", "operation %s is not supported by this emulator", name))
		return
	}
	if len(body) > 0 && !json.Valid(body) {
		s.writeError(w, name, body, Errorf("SerializationException", "request body is not valid JSON"))
		return
	}

	out, err := op(r.Context(), body)
	if err != nil {
		var apiErr *Error
		if !errors.As(err, &apiErr) {
			s.logger.Error("operation failed", "operation", name, "error", err)
			apiErr = &Error{Type: s.cfg.InternalErrorType, Message: "internal error in emulator", Status: http.StatusInternalServerError}
		}
		s.writeError(w, name, body, apiErr)
		return
	}
	payload, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, name, body, &Error{Type: s.cfg.InternalErrorType, Message: "encode response", Status: http.StatusInternalServerError})
		return
	}
	s.record(name, body, http.StatusOK, "")
	w.Header().Set("Content-Type", s.contentType())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(payload)
}

func (s *Service) writeError(w http.ResponseWriter, op string, body []byte, e *Error) {
	s.record(op, body, e.status(), e.Type)
	typ := e.Type
	if s.cfg.ErrorNamespace != "" {
		typ = s.cfg.ErrorNamespace + "#" + e.Type
	}
	if e.QueryCode != "" {
		fault := "Sender"
		if e.status() >= 500 {
			fault = "Receiver"
		}
		w.Header().Set("x-amzn-query-error", e.QueryCode+";"+fault)
	}
	payload, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{typ, e.Message})
	w.Header().Set("Content-Type", s.contentType())
	w.WriteHeader(e.status())
	_, _ = w.Write(payload)
}

func (s *Service) record(op string, body []byte, status int, errType string) {
	s.logger.Debug("aws request", "operation", op, "status", status, "error_type", errType)
	req := Request{Time: time.Now(), Operation: op, Status: status, ErrorType: errType, Input: s.mask(body)}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
}

// mask returns body with the values of redacted fields replaced.
func (s *Service) mask(body []byte) json.RawMessage {
	if len(body) == 0 {
		return nil
	}
	if len(s.redact) == 0 {
		return append(json.RawMessage(nil), body...)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return json.RawMessage(`"[unparseable body]"`)
	}
	out, err := json.Marshal(s.maskValue(v))
	if err != nil {
		return json.RawMessage(`"[unencodable body]"`)
	}
	return out
}

func (s *Service) maskValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if s.redact[k] {
				t[k] = "[REDACTED]"
				continue
			}
			t[k] = s.maskValue(child)
		}
	case []any:
		for i, child := range t {
			t[i] = s.maskValue(child)
		}
	}
	return v
}

// Timestamp is a time in the JSON protocols' wire form: seconds since the
// epoch as a JSON number, with millisecond precision.
type Timestamp time.Time

// NewTimestamp returns a pointer to t as a Timestamp, for optional fields.
func NewTimestamp(t time.Time) *Timestamp {
	ts := Timestamp(t)
	return &ts
}

// Time returns t as a time.Time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1e3, 'f', 3, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	whole, frac := math.Modf(secs)
	*t = Timestamp(time.Unix(int64(whole), int64(math.Round(frac*1e3))*int64(time.Millisecond)))
	return nil
}

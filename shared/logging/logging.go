// Package logging builds the JSON slog loggers every orgwarden function and
// the CLI use, and keeps key material out of them.
//
// Every record goes through a redacting handler: OpenAI key values
// (sk-admin-…, sk-proj-…, sk-svcacct-…, sk-…) are masked wherever they
// appear in the message or in string attributes, and values of type Secret
// render as "[REDACTED]". Records carry the Lambda request id when the
// context has one, and the run id when the context has one.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// New returns a JSON logger writing to w at the given level. Keys follow the
// Lambda JSON log format (timestamp, level, message) so CloudWatch Logs
// Insights reads them like any other Lambda log.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: lambdacontext.ReplaceAttr,
	})
	return slog.New(NewRedactingHandler(&contextHandler{next: h}))
}

// ParseLevel reads debug, info, warn or error (any case); empty means info.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

// Discard is a logger that drops everything; for tests that do not read logs.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// contextHandler adds the Lambda request id and the orgwarden run id found in
// the context to every record.
type contextHandler struct{ next slog.Handler }

func (h *contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	if id := RunID(ctx); id != "" {
		r.AddAttrs(slog.String("run_id", id))
	}
	return h.next.Handle(ctx, r)
}

func (h *contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &contextHandler{next: h.next.WithAttrs(as)}
}

func (h *contextHandler) WithGroup(name string) slog.Handler {
	return &contextHandler{next: h.next.WithGroup(name)}
}

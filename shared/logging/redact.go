package logging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
)

// Redacted is what key material is replaced with.
const Redacted = "[REDACTED]"

// keyPattern matches OpenAI secret key values. Real keys are long; the
// API's own redacted forms ("sk-admin...def") contain dots and do not match,
// so they stay readable in logs, which is what they are for.
var keyPattern = regexp.MustCompile(`sk-[A-Za-z0-9_\-]{16,}`)

// Redact masks every OpenAI key value in s, keeping the kind of key
// (sk-admin-, sk-proj-, sk-svcacct-) so a reader still knows what it was.
func Redact(s string) string {
	return keyPattern.ReplaceAllStringFunc(s, func(k string) string {
		for _, prefix := range []string{"sk-admin-", "sk-proj-", "sk-svcacct-"} {
			if len(k) > len(prefix) && k[:len(prefix)] == prefix {
				return prefix + Redacted
			}
		}
		return "sk-" + Redacted
	})
}

// Secret holds key material. Every way of printing it (fmt, slog, JSON)
// prints "[REDACTED]"; only Reveal returns the value, so a leak needs an
// explicit call that a reviewer can see.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string             { return Redacted }
func (s Secret) GoString() string           { return Redacted }
func (s Secret) LogValue() slog.Value       { return slog.StringValue(Redacted) }
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON keeps secrets out of anything encoded as JSON by accident.
// Code that must store a secret (Secrets Manager) marshals Reveal() on purpose.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// RedactError returns err with key material masked from its message, keeping
// the chain for errors.Is and errors.As.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := Redact(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Is lets errors.Is see through the mask without exposing the message.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// RedactingHandler masks key material in records before they reach the
// next handler.
type RedactingHandler struct{ next slog.Handler }

// NewRedactingHandler wraps next.
func NewRedactingHandler(next slog.Handler) *RedactingHandler { return &RedactingHandler{next: next} }

func (h *RedactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *RedactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *RedactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return &RedactingHandler{next: h.next.WithAttrs(red)}
}

func (h *RedactingHandler) WithGroup(name string) slog.Handler {
	return &RedactingHandler{next: h.next.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		red := make([]any, len(group))
		for i, g := range group {
			red[i] = redactAttr(g)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Redact(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, Redact(x.String()))
		case []string:
			red := make([]string, len(x))
			for i, s := range x {
				red[i] = Redact(s)
			}
			return slog.Any(a.Key, red)
		default:
			// Anything else is encoded by the JSON handler; encode it here
			// first so nested strings are masked too.
			b, err := json.Marshal(x)
			if err != nil {
				return slog.String(a.Key, Redact(fmt.Sprint(x)))
			}
			if red := Redact(string(b)); red != string(b) {
				return slog.Any(a.Key, json.RawMessage(red))
			}
			return slog.Attr{Key: a.Key, Value: v}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

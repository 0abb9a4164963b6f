package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Keys built at run time so that no key-shaped literal sits in the source.
var (
	adminKey = "sk-admin-" + strings.Repeat("A1b2", 12)
	projKey  = "sk-proj-" + strings.Repeat("Zz9_", 12)
	bareKey  = "sk-" + strings.Repeat("q", 40)
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"admin key", "key " + adminKey + " used", "key sk-admin-[REDACTED] used"},
		{"project key", projKey, "sk-proj-[REDACTED]"},
		{"bare key", "x=" + bareKey, "x=sk-[REDACTED]"},
		{"two keys", adminKey + "," + projKey, "sk-admin-[REDACTED],sk-proj-[REDACTED]"},
		{"api redacted form stays", "sk-admin...def", "sk-admin...def"},
		{"short token stays", "sk-short", "sk-short"},
		{"no key", "plain text", "plain text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact() = %q, want %q", got, tt.want)
			}
		})
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestLoggerNeverWritesKeyMaterial(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelDebug)
	ctx := WithRunID(context.Background(), "run-1")

	log.InfoContext(ctx, "created "+adminKey,
		"value", adminKey,
		"secret", Secret(projKey),
		"err", fmt.Errorf("call failed: %s", bareKey),
		"stringer", stringer{adminKey},
		"list", []string{projKey},
		"struct", struct{ Key string }{adminKey},
		slog.Group("g", "inner", projKey),
	)
	log.With("pre", adminKey).WithGroup("grp").Info("x", "k", projKey)

	out := buf.String()
	for _, k := range []string{adminKey, projKey, bareKey} {
		if strings.Contains(out, k) {
			t.Fatalf("log output contains key material")
		}
	}
	if !strings.Contains(out, "sk-admin-[REDACTED]") || !strings.Contains(out, Redacted) {
		t.Errorf("expected redaction markers in output: %s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2", len(lines))
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("line is not JSON: %v", err)
	}
	if rec["run_id"] != "run-1" {
		t.Errorf("run_id = %v, want run-1", rec["run_id"])
	}
	if _, ok := rec["message"]; !ok {
		t.Errorf("want Lambda key names (message), got %v", rec)
	}
}

func TestLoggerAddsLambdaRequestID(t *testing.T) {
	var buf bytes.Buffer
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-42"})
	New(&buf, slog.LevelInfo).InfoContext(ctx, "hello")
	if !strings.Contains(buf.String(), `"requestId":"req-42"`) {
		t.Errorf("request id missing: %s", buf.String())
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret(adminKey)
	b, _ := json.Marshal(struct{ S Secret }{s})
	for _, got := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), string(b)} {
		if strings.Contains(got, adminKey) {
			t.Fatalf("secret printed")
		}
	}
	if s.Reveal() != adminKey {
		t.Errorf("Reveal lost the value")
	}
}

var errSentinel = errors.New("sentinel")

func TestRedactErrorKeepsChain(t *testing.T) {
	err := RedactError(fmt.Errorf("with %s: %w", adminKey, errSentinel))
	if strings.Contains(err.Error(), adminKey) {
		t.Fatalf("error message contains key material")
	}
	if !errors.Is(err, errSentinel) {
		t.Errorf("errors.Is lost the chain")
	}
	plain := errors.New("nothing secret")
	if RedactError(plain) != plain {
		t.Errorf("an error without keys should be returned as is")
	}
	if RedactError(nil) != nil {
		t.Errorf("nil should stay nil")
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{"", slog.LevelInfo, false},
		{"DEBUG", slog.LevelDebug, false},
		{"warn", slog.LevelWarn, false},
		{"error", slog.LevelError, false},
		{"loud", slog.LevelInfo, true},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestNewRunIDUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := NewRunID()
		if seen[id] {
			t.Fatalf("duplicate run id %s", id)
		}
		seen[id] = true
	}
}

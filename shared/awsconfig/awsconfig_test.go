package awsconfig_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
)

// An S3 server that answers without checksums makes the SDK log that it
// skipped validation. That line must reach the JSON logs (or nowhere),
// never stderr as plain text.
func TestSDKLogsAreStructuredNeverPlainStderr(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"abc"`)
		_, _ = io.WriteString(w, "hello")
	}))
	defer srv.Close()
	env := config.MapEnv(map[string]string{
		"AWS_ENDPOINT_URL_S3": srv.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
	})

	for _, withLogger := range []bool{true, false} {
		stderr := captureStderr(t)
		var logs bytes.Buffer
		var opts []awsconfig.Option
		if withLogger {
			opts = append(opts, awsconfig.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		}
		c, err := awsconfig.Load(t.Context(), env, opts...)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.S3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), ChecksumMode: "ENABLED"})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(out.Body)
		out.Body.Close()
		if got := stderr(); got != "" {
			t.Errorf("withLogger=%v: plain text on stderr: %q", withLogger, got)
		}
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if line != "" && !json.Valid([]byte(line)) {
				t.Errorf("log line is not JSON: %q", line)
			}
		}
		if withLogger && !strings.Contains(logs.String(), "aws sdk: ") {
			t.Errorf("the SDK's warning did not reach the structured log: %q", logs.String())
		}
	}
}

// captureStderr redirects os.Stderr until the returned func is called,
// which restores it and returns what was written.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	restored := false
	restore := func() string {
		if restored {
			return ""
		}
		restored = true
		os.Stderr = old
		w.Close()
		return <-done
	}
	t.Cleanup(func() { restore() })
	return restore
}

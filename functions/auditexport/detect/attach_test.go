package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgwarden/orgwarden/functions/auditexport/detect"
	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge/eventbridgetest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
)

// TestLambdaHandlerDetects: the auditexport Lambda, built as main.go builds
// it, evaluates the rules after each run. A failing bus does not fail the
// export: the run succeeds, DetectionErrors is 1 and the summary says why;
// the next run delivers what was held back, once.
func TestLambdaHandlerDetects(t *testing.T) {
	emu := adminapitest.New(t, adminapi.Options{})
	s3srv := s3test.New(t)
	eb := eventbridgetest.New(t)
	for _, b := range []string{bucket, journalBucket} {
		if err := s3srv.CreateBucket(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Unix()
	appendRaw := func(raw string) {
		t.Helper()
		if err := emu.Emulator.AppendAuditEvent([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	appendRaw(fmt.Sprintf(`{"id":"audit_log-owner1","type":"user.updated","effective_at":%d,"user.updated":{"id":"user-x","changes_requested":{"role":"owner"}}}`, now-7200))
	appendRaw(fmt.Sprintf(`{"id":"audit_log-benign","type":"user.updated","effective_at":%d,"user.updated":{"id":"user-y","changes_requested":{"role":"reader"}}}`, now-7100))

	env := func(ebURL string) map[string]string {
		return map[string]string{
			"OPENAI_BASE_URL": emu.URL, "OPENAI_ADMIN_KEY": emu.AdminKey, "ORGWARDEN_RATE_LIMIT": "0",
			"ORGWARDEN_ORG_ID": org, "ORGWARDEN_AUDIT_BUCKET": bucket, "ORGWARDEN_AUDIT_STATE_BUCKET": journalBucket,
			"ORGWARDEN_AUDIT_PREFIX": "audit", "AWS_ENDPOINT_URL_S3": s3srv.URL, "AWS_ENDPOINT_URL_EVENTBRIDGE": ebURL,
			"AWS_ACCESS_KEY_ID": "AKIAORGWARDENLOCAL00", "AWS_SECRET_ACCESS_KEY": "orgwarden-local-secret-access-key",
			"AWS_REGION":       "us-east-1",
			"ORGWARDEN_DETECT": "true", "ORGWARDEN_DETECT_BUS": bus, "ORGWARDEN_DETECT_ASFF": "true",
		}
	}
	invoke := func(ebURL, payload string) (export.Result, string) {
		t.Helper()
		var out syncBuffer
		f, err := export.FromEnv(context.Background(), config.MapEnv(env(ebURL)), app.Options{Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := detect.Attach(f, config.MapEnv(env(ebURL))); err != nil {
			t.Fatal(err)
		}
		resp, err := lambda.NewHandler(f.Handle).Invoke(context.Background(), []byte(payload))
		if err != nil {
			t.Fatalf("invoke: %v (a detection failure must not fail the export)", err)
		}
		var res export.Result
		if err := json.Unmarshal(resp, &res); err != nil {
			t.Fatal(err)
		}
		return res, out.String()
	}
	since := time.Now().Add(-48 * time.Hour).UTC().Format(time.DateOnly)

	// The bus is down (nothing listens there): the export succeeds.
	res, logs := invoke("http://127.0.0.1:1", `{"since":"`+since+`"}`)
	if res.Generation != 1 || res.Events != 2 {
		t.Fatalf("export: %+v", res)
	}
	for _, want := range []string{`"DetectionErrors":1`, `"DetectionFindings":1`, `"detection_error":`, `"rule":"raised-to-owner"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if n := len(eb.Events()); n != 0 {
		t.Fatalf("%d events on a bus that was down", n)
	}

	// The next run delivers the finding held back, once, and raises no new one.
	_, logs = invoke(eb.URL, `{}`)
	for _, want := range []string{`"DetectionErrors":0`, `"DetectionFindings":0`, `"undelivered":0`} {
		if !strings.Contains(logs, want) {
			t.Errorf("second run's logs lack %s:\n%s", want, logs)
		}
	}
	_, _ = invoke(eb.URL, `{}`)
	var findings []detect.Finding
	for _, e := range eb.Events() {
		if e.DetailType == detect.EventDetailType {
			var f detect.Finding
			if err := json.Unmarshal(e.Detail, &f); err != nil {
				t.Fatal(err)
			}
			findings = append(findings, f)
		}
	}
	if len(findings) != 1 || findings[0].Rule != "raised-to-owner" || strings.Join(findings[0].EventIDs, ",") != "audit_log-owner1" ||
		findings[0].OrgID != org || findings[0].Severity != detect.Critical {
		t.Fatalf("findings on the bus: %+v", findings)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

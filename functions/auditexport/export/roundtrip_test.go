package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// Events the API may send tomorrow: unknown types, unknown fields, odd
// field order, numbers no Go type holds, escapes, tenant-scoped types.
// Each must reach S3 byte for byte.
func TestUnknownFieldsAndTypesRoundTripByteForByte(t *testing.T) {
	e := newEnv(t, envOptions{noValidate: true}) // unknown types break the spec's enum on purpose
	at := e.clock.Now().Unix() - 120
	raws := []string{
		fmt.Sprintf(`{"effective_at":%d,"id":"audit_log-rt1","type":"brand.new.event","brand.new.event":{"id":"x","nested":{"deep":[1,2,{"a":null}]}},"x_unknown":true}`, at),
		fmt.Sprintf(`{"id":"audit_log-rt2","type":"project.created","effective_at":%d,"project":{"id":"proj_1","name":"caf\u00e9 \"quoted\" \\ back"},"big":12345678901234567890123,"float":1.50e+10,"project.created":{"id":"proj_1","data":{"name":"n","title":"t"}}}`, at-1),
		fmt.Sprintf(`{"id":"audit_log-rt3","type":"tenant.future.thing","effective_at":%d,"tenant.future.thing":{"who":"\ud83d\ude00"}}`, at-2),
		fmt.Sprintf(`{"id":"audit_log-rt4","type":"login.succeeded","effective_at":%d,"actor":{"type":"session","session":{"user":{"id":"user_1","email":"a@example.com"},"ip_address":"192.0.2.1","ja4":"t13d"}},"login.succeeded":{}}`, at-3),
	}
	for _, raw := range raws {
		if !json.Valid([]byte(raw)) {
			t.Fatalf("test event is not JSON: %s", raw)
		}
		if err := e.emu.Emulator.AppendAuditEvent([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	e.run(export.Request{Since: at - 3600})

	_, lines := e.exported()
	for i, raw := range raws {
		id := fmt.Sprintf("audit_log-rt%d", i+1)
		if got := string(lines[id]); got != raw {
			t.Errorf("%s changed on the way to S3:\n got %s\nwant %s", id, got, raw)
		}
	}
	// And what the API sent is what was stored.
	api := e.api()
	for _, tenant := range []bool{false, true} {
		page, err := api.AuditLogPage(context.Background(), adminclient.AuditFilter{EffectiveAtGTE: at - 10, TenantOnly: tenant})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			if !bytes.Equal(ev.Raw, lines[ev.ID]) {
				t.Errorf("%s: API sent %s, S3 holds %s", ev.ID, ev.Raw, lines[ev.ID])
			}
		}
	}
}

// A dry run lists what it would export and writes nothing anywhere.
func TestDryRunWritesNothing(t *testing.T) {
	seed := adminapi.SmallSeed(5)
	e := newEnv(t, envOptions{seed: &seed})
	res := e.run(export.Request{Since: e.clock.Now().Add(-30 * 24 * time.Hour).Unix(), DryRun: true})
	if res.Events != int64(e.emu.Emulator.AuditEventCount()) || res.Objects == 0 || !res.DryRun {
		t.Fatalf("dry run: %+v, want every one of %d events counted", res, e.emu.Emulator.AuditEventCount())
	}
	if keys := e.keys(""); len(keys) != 0 {
		t.Fatalf("dry run wrote %d objects: %v", len(keys), head(keys))
	}
	if m := e.emu.Emulator.MutatingRequests(); len(m) != 0 {
		t.Fatalf("dry run sent %d mutating API requests", len(m))
	}
	// A real run afterwards exports the same.
	real := e.run(export.Request{Since: e.clock.Now().Add(-30 * 24 * time.Hour).Unix()})
	if real.Events != res.Events || real.Objects != res.Objects {
		t.Fatalf("real run %d events in %d objects; dry run said %d in %d", real.Events, real.Objects, res.Events, res.Objects)
	}
	e.assertExactlyOnce()
}

// The Lambda handler, invoked the way Lambda does, with the function's
// real environment: backfill through the event, metrics and one summary
// line on stdout, no key material anywhere.
func TestLambdaHandler(t *testing.T) {
	seed := adminapi.SmallSeed(9)
	e := newEnv(t, envOptions{seed: &seed})
	var out syncBuffer
	envVars := map[string]string{
		"OPENAI_BASE_URL":               e.emu.URL,
		"OPENAI_ADMIN_KEY":              e.emu.AdminKey,
		"ORGWARDEN_RATE_LIMIT":          "0",
		"ORGWARDEN_ORG_ID":              testOrg,
		"ORGWARDEN_AUDIT_BUCKET":        testBucket,
		"ORGWARDEN_AUDIT_PREFIX":        "audit",
		"AWS_ENDPOINT_URL_S3":           e.s3.URL,
		"AWS_ACCESS_KEY_ID":             "AKIAORGWARDENLOCAL00",
		"AWS_SECRET_ACCESS_KEY":         "orgwarden-local-secret-access-key",
		"AWS_REGION":                    "us-east-1",
		"ORGWARDEN_AUDIT_LOOKBACK":      "1h",
		"ORGWARDEN_AUDIT_TENANT_EVENTS": "true",
	}
	f, err := export.FromEnv(context.Background(), config.MapEnv(envVars), app.Options{Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	// The function runs on the real clock; the seeded events are before the
	// emulator's (earlier) clock, so this backfill reaches all of them.
	since := e.clock.Now().Add(-40 * 24 * time.Hour).UTC().Format(time.DateOnly)
	payloads := []string{
		`{"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events","detail":{"since":"` + since + `"}}`,
		`{"since":"` + since + `"}`,
		`{"version":"0","id":"e2","detail-type":"Scheduled Event","source":"aws.events","time":"2025-06-15T12:00:00Z","detail":{}}`,
	}
	h := lambda.NewHandler(f.Handle)
	for i, p := range payloads {
		resp, err := h.Invoke(context.Background(), []byte(p))
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		var res export.Result
		if err := json.Unmarshal(resp, &res); err != nil {
			t.Fatal(err)
		}
		if res.Generation != int64(i+1) {
			t.Fatalf("invoke %d: %s", i, resp)
		}
		if i == 0 && res.Events == 0 {
			t.Fatalf("backfill through the EventBridge detail exported nothing: %s", resp)
		}
	}
	logs := out.String()
	for _, want := range []string{`"EventsExported"`, `"ExportLagSeconds"`, `"RunDurationMs"`, `"ObjectsWritten"`, `"Namespace":"Orgwarden"`, `"message":"summary"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("stdout lacks %s", want)
		}
	}
	// The newest event is weeks old (a quiet organization): the lag says so,
	// but the export is complete up to the run, which is what alarms watch.
	var last map[string]any
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"ExportCoverageAgeSeconds"`) {
			last = nil
			_ = json.Unmarshal([]byte(line), &last)
		}
	}
	lag, _ := last["ExportLagSeconds"].(float64)
	age, ok := last["ExportCoverageAgeSeconds"].(float64)
	if !ok || age > 60 || lag < 7*24*3600 {
		t.Errorf("last run: coverage age %v (reported %v), lag %v; want a small age beside a lag of weeks", age, ok, lag)
	}
	if n := strings.Count(logs, `"message":"summary"`); n != len(payloads) {
		t.Errorf("%d summary lines for %d runs", n, len(payloads))
	}
	for _, secret := range e.emu.Emulator.IssuedSecrets() {
		if strings.Contains(logs, secret) {
			t.Fatal("key material in the function's output")
		}
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"since":"yesterday"}`)); err == nil {
		t.Fatal("a bad since was accepted")
	}
}

func TestConfigValidation(t *testing.T) {
	base := map[string]string{"ORGWARDEN_ORG_ID": "org-1", "ORGWARDEN_AUDIT_BUCKET": "my-bucket"}
	tests := []struct {
		name string
		set  map[string]string
		want string // "" = valid
	}{
		{"defaults", nil, ""},
		{"no org", map[string]string{"ORGWARDEN_ORG_ID": ""}, "ORGWARDEN_ORG_ID: is required"},
		{"bad org", map[string]string{"ORGWARDEN_ORG_ID": "org/1"}, "ORGWARDEN_ORG_ID"},
		{"bad bucket", map[string]string{"ORGWARDEN_AUDIT_BUCKET": "My_Bucket"}, "ORGWARDEN_AUDIT_BUCKET"},
		{"bad state bucket", map[string]string{"ORGWARDEN_AUDIT_STATE_BUCKET": "x"}, "ORGWARDEN_AUDIT_STATE_BUCKET"},
		{"bad prefix", map[string]string{"ORGWARDEN_AUDIT_PREFIX": "a/../b"}, "ORGWARDEN_AUDIT_PREFIX"},
		{"lookback in days", map[string]string{"ORGWARDEN_AUDIT_LOOKBACK": "2d"}, ""},
		{"bad lookback", map[string]string{"ORGWARDEN_AUDIT_LOOKBACK": "soon"}, "ORGWARDEN_AUDIT_LOOKBACK"},
		{"too many slices", map[string]string{"ORGWARDEN_AUDIT_SLICE_CONCURRENCY": "500"}, "ORGWARDEN_AUDIT_SLICE_CONCURRENCY"},
		{"tiny rollover", map[string]string{"ORGWARDEN_AUDIT_ROLLOVER_BYTES": "1000"}, "ORGWARDEN_AUDIT_ROLLOVER_BYTES"},
		{"zero events", map[string]string{"ORGWARDEN_AUDIT_ROLLOVER_EVENTS": "0"}, "ORGWARDEN_AUDIT_ROLLOVER_EVENTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.set {
				env[k] = v
			}
			r := config.NewReader(config.MapEnv(env))
			cfg := export.ReadConfig(r)
			err := r.Err()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			}
			if tt.want == "" && (cfg.StateBucket == "" || cfg.Prefix == "" || cfg.Lookback <= 0) {
				t.Fatalf("defaults not applied: %+v", cfg)
			}
		})
	}
	// FromEnv reports the export's and the common problems together.
	_, err := export.FromEnv(context.Background(), config.MapEnv(map[string]string{"ORGWARDEN_AUDIT_LOOKBACK": "x"}), app.Options{Out: io.Discard})
	for _, name := range []string{"ORGWARDEN_ORG_ID", "ORGWARDEN_AUDIT_BUCKET", "ORGWARDEN_AUDIT_LOOKBACK", "OPENAI_ADMIN_KEY"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("FromEnv error %v does not name %s", err, name)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2025-01-01", 1735689600, true},
		{"2025-01-01T01:00:00Z", 1735693200, true},
		{"2025-01-01T01:00:00+01:00", 1735689600, true},
		{"1735689600", 1735689600, true},
		{"yesterday", 0, false},
		{"-5", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := export.ParseTime(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestProgressIsReported(t *testing.T) {
	seed := adminapi.SmallSeed(5)
	e := newEnv(t, envOptions{seed: &seed})
	var got []export.Progress
	e.run(export.Request{Since: e.clock.Now().Add(-30 * 24 * time.Hour).Unix(), Progress: func(p export.Progress) { got = append(got, p) }})
	if len(got) == 0 {
		t.Fatal("no progress reported")
	}
	var last export.Progress
	for _, p := range got {
		if p.Job == "backfill" {
			last = p
		}
	}
	if !last.Done || last.Fraction != 1 || last.Events == 0 {
		t.Fatalf("final progress %+v", last)
	}
	if s := last.String(); !strings.Contains(s, "events/s") || !strings.Contains(s, "ETA done") {
		t.Fatalf("progress line %q", s)
	}
	mid := export.Progress{Job: "backfill", Events: 500, Rate: 250, Fraction: 0.25, ETA: 6 * time.Second}
	if s := mid.String(); s != "backfill: 500 events (0 already exported), 250 events/s, 25.0% of the range, ETA ~6s" {
		t.Fatalf("progress line %q", s)
	}
}

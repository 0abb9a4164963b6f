package rotation_test

import (
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/awslocal"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		rotation bool
		dryRun   bool
		want     string // error
	}{
		{name: "rotation step", payload: `{"SecretId":"arn:aws:secretsmanager:us-east-1:1:secret:x","ClientRequestToken":"t","Step":"createSecret","RotationToken":"r"}`, rotation: true},
		{name: "empty object is a sweep", payload: `{}`},
		{name: "empty payload is a sweep", payload: ``},
		{name: "dry-run sweep", payload: `{"dry_run":true}`, dryRun: true},
		{name: "scheduled rule", payload: `{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`},
		{name: "rotation without a step", payload: `{"SecretId":"x","ClientRequestToken":"t"}`, want: "needs SecretId, ClientRequestToken and Step"},
		{name: "rotation with a number", payload: `{"SecretId":"x","ClientRequestToken":"t","Step":1}`, want: "must be strings"},
		{name: "something else", payload: `{"Records":[]}`, want: "want a Secrets Manager rotation event"},
		{name: "not json", payload: `{"Step":`, want: "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := rotation.ParseEvent([]byte(tt.payload))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (ev.Rotation != nil) != tt.rotation || (ev.Schedule != nil) == tt.rotation {
				t.Fatalf("event %+v: rotation %v", ev, tt.rotation)
			}
			if ev.Schedule != nil && ev.Schedule.DryRun != tt.dryRun {
				t.Errorf("dry run %v, want %v", ev.Schedule.DryRun, tt.dryRun)
			}
		})
	}
}

// FuzzParseEvent: every payload is either exactly one kind of event or an
// error; never both, never neither, never a panic.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{`{}`, `{"dry_run":true}`, `{"SecretId":"a","ClientRequestToken":"b","Step":"testSecret"}`, `{"Step":"x"}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := rotation.ParseEvent(b)
		if err != nil {
			return
		}
		if (ev.Rotation == nil) == (ev.Schedule == nil) {
			t.Fatalf("payload %q gave %+v", b, ev)
		}
		if ev.Rotation != nil && (ev.Rotation.Step == "" || ev.Rotation.SecretID == "" || ev.Rotation.ClientRequestToken == "") {
			t.Fatalf("incomplete rotation event accepted: %q", b)
		}
	})
}

// The handler refuses an event of the wrong shape before doing anything,
// decoding it as Lambda does.
func TestHandlerRefusesUnknownEvents(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	_, err := invoke(t.Context(), f.handler(), map[string]any{"Records": []any{map[string]string{"body": "x"}}})
	if err == nil || !strings.Contains(err.Error(), "want a Secrets Manager rotation event") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.emu.Emulator.Requests()); n != 0 {
		t.Errorf("%d API requests for a refused event", n)
	}
}

func TestFromEnv(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	env := map[string]string{
		"OPENAI_BASE_URL": f.emu.URL, "OPENAI_ADMIN_KEY_SECRET_ARN": f.adminSecret, "ORGWARDEN_DRY_RUN": "true",
		"ORGWARDEN_SUMMARY_BUS": bus, "ORGWARDEN_STALE_KEY_UNUSED": "60d", "ORGWARDEN_MANAGED_SECRET_ARNS": f.adminSecret,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": f.sm.URL, "AWS_ENDPOINT_URL_EVENTBRIDGE": f.eb.URL,
		"AWS_ACCESS_KEY_ID": awslocal.AccessKeyID, "AWS_SECRET_ACCESS_KEY": awslocal.SecretAccessKey, "AWS_REGION": awslocal.Region,
	}
	h, err := rotation.FromEnv(t.Context(), config.MapEnv(env), appOptions(f))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := h.Sweep(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.DryRun || sum.Thresholds.StaleKeyUnused != "60d" || sum.Scanned.ManagedSecrets != 1 || len(f.eb.Events()) != 1 {
		t.Errorf("configuration not applied: %+v", sum)
	}

	env["ORGWARDEN_ROTATION_GRACE"] = "soon"
	env["ORGWARDEN_STALE_KEY_NEVER_USED"] = "0d"
	delete(env, "OPENAI_ADMIN_KEY_SECRET_ARN")
	_, err = rotation.FromEnv(t.Context(), config.MapEnv(env), appOptions(f))
	for _, name := range []string{"ORGWARDEN_ROTATION_GRACE", "ORGWARDEN_STALE_KEY_NEVER_USED", "OPENAI_ADMIN_KEY"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

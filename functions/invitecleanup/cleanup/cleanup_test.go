package cleanup_test

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgwarden/orgwarden/functions/invitecleanup/cleanup"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/secrets"
	"github.com/orgwarden/orgwarden/shared/sweep"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge/eventbridgetest"
	"github.com/orgwarden/orgwarden/testenv/logtest"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const (
	day = 24 * time.Hour
	bus = "orgwarden-summaries"
)

type fixture struct {
	t      *testing.T
	emu    *adminapitest.Server
	eb     *eventbridge.Server
	out    *logtest.Buffer
	common config.Common
	ids    map[string]string // invite name -> id
}

// newFixture seeds invites of known ages and states (the emulator's invite
// TTL is 30 days, so one created 40 days ago has expired).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	emu := adminapitest.New(t, adminapi.Options{Clock: func() time.Time { return t0 }})
	f := &fixture{t: t, emu: emu, eb: eventbridgetest.New(t), out: &logtest.Buffer{}, ids: map[string]string{}}
	f.common = config.Common{BaseURL: emu.URL, MaxConcurrency: 4, HTTPTimeout: 10 * time.Second, MaxRetries: 2,
		MaxRetryDelay: 50 * time.Millisecond, LogLevel: slog.LevelDebug, SummaryBus: bus, MaxDeletions: 25,
		Rules: guard.Rules{Protection: guard.Protection{Emails: []string{"VIP@example.com"}, Domains: []string{"partner.io"}}}}
	invite := func(name string, ni adminapi.NewInvite) {
		t.Helper()
		id, err := emu.Emulator.AddInvite(ni)
		if err != nil {
			t.Fatal(err)
		}
		f.ids[name] = id
	}
	ago := func(d time.Duration) time.Time { return t0.Add(-d) }
	invite("fresh", adminapi.NewInvite{Email: "new@example.com", CreatedAt: ago(5 * day)})
	invite("old", adminapi.NewInvite{Email: "old@example.com", CreatedAt: ago(20 * day)})
	invite("old-owner-invite", adminapi.NewInvite{Email: "boss@example.com", Role: "owner", CreatedAt: ago(15 * day)})
	invite("expired", adminapi.NewInvite{Email: "late@example.com", CreatedAt: ago(40 * day)})
	invite("expired-early", adminapi.NewInvite{Email: "short@example.com", CreatedAt: ago(3 * day), ExpiresAt: ago(day)})
	invite("accepted", adminapi.NewInvite{Email: "joined@example.com", CreatedAt: ago(60 * day), AcceptedAt: ago(59 * day)})
	invite("protected-email", adminapi.NewInvite{Email: "vip@example.com", CreatedAt: ago(20 * day)})
	invite("protected-domain", adminapi.NewInvite{Email: "a@eu.partner.io", CreatedAt: ago(40 * day)})
	invite("protected-id", adminapi.NewInvite{Email: "keep@example.com", CreatedAt: ago(20 * day)})
	f.common.Rules.IDs = []string{f.ids["protected-id"]}
	t.Cleanup(func() {
		out := f.out.String()
		for _, s := range emu.Emulator.IssuedSecrets() {
			if strings.Contains(out, s) {
				t.Errorf("output contains key material %s...", s[:12])
			}
		}
	})
	return f
}

func (f *fixture) handler(cfg cleanup.Config) *cleanup.Handler {
	deps := &app.Deps{
		Function: cleanup.Function, Common: f.common, Out: f.out,
		Log:  logging.New(f.out, slog.LevelDebug).With("function", cleanup.Function),
		AWS:  &awsconfig.Clients{EventBridge: f.eb.Client()},
		Keys: secrets.Static{Value: logging.Secret(f.emu.AdminKey)},
	}
	return cleanup.New(deps, cfg, cleanup.WithClock(f.emu.Emulator.Now))
}

func (f *fixture) names(ids []string) []string {
	byID := map[string]string{}
	for n, id := range f.ids {
		byID[id] = n
	}
	var out []string
	for _, id := range ids {
		out = append(out, byID[id])
	}
	slices.Sort(out)
	return out
}

func (f *fixture) deletedIDs() []string {
	var out []string
	for _, r := range f.emu.Emulator.MutatingRequests() {
		if r.Method == "DELETE" {
			out = append(out, r.Path[strings.LastIndexByte(r.Path, '/')+1:])
		}
	}
	return out
}

func (f *fixture) metric(name string) float64 {
	v := -1.0
	for _, line := range strings.Split(f.out.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["_aws"] != nil {
			if x, ok := m[name].(float64); ok {
				v = x
			}
		}
	}
	return v
}

func ids(es []sweep.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestCleanup(t *testing.T) {
	stale := []string{"expired", "expired-early", "old", "old-owner-invite"}
	skipped := []string{"protected-domain", "protected-email", "protected-id"}
	tests := []struct {
		name     string
		payload  string
		dryRun   bool
		max      int
		maxAge   time.Duration
		deleted  []string
		planned  []string
		capHit   bool
		reported int
	}{
		{name: "deletes stale and expired invites", payload: `{}`, max: 25, maxAge: 14 * day, deleted: stale, planned: stale},
		{name: "a longer max age keeps younger pending invites", payload: `{}`, max: 25, maxAge: 18 * day,
			deleted: []string{"expired", "expired-early", "old"}, planned: []string{"expired", "expired-early", "old"}},
		{name: "dry run by configuration", payload: `{}`, dryRun: true, max: 25, maxAge: 14 * day, planned: stale, reported: 4},
		{name: "dry run asked by the event", payload: `{"dry_run": true}`, max: 25, maxAge: 14 * day, planned: stale, reported: 4},
		{name: "scheduled rule event", payload: `{"version":"0","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`,
			max: 25, maxAge: 14 * day, deleted: stale, planned: stale},
		{name: "above the cap nothing is deleted", payload: `{}`, max: 3, maxAge: 14 * day, planned: stale, capHit: true, reported: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.common.DryRun, f.common.MaxDeletions = tt.dryRun, tt.max
			h := f.handler(cleanup.Config{MaxAge: tt.maxAge})
			out, err := lambda.NewHandler(h.Handle).Invoke(t.Context(), []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			var sum cleanup.Summary
			if err := json.Unmarshal(out, &sum); err != nil {
				t.Fatal(err)
			}
			if got := f.names(f.deletedIDs()); !slices.Equal(got, tt.deleted) {
				t.Errorf("deleted %v, want %v", got, tt.deleted)
			}
			if got := f.names(ids(sum.Invites.Deletions)); !slices.Equal(got, tt.planned) {
				t.Errorf("planned %v, want %v", got, tt.planned)
			}
			if got := f.names(ids(sum.Invites.Skipped)); !slices.Equal(got, skipped) {
				t.Errorf("skipped %v, want %v", got, skipped)
			}
			for _, r := range f.emu.Emulator.MutatingRequests() {
				for _, name := range append([]string{"fresh", "accepted"}, skipped...) {
					if strings.HasSuffix(r.Path, "/"+f.ids[name]) {
						t.Errorf("%s reached %s %s", name, r.Method, r.Path)
					}
				}
			}
			if len(tt.deleted) == 0 && len(f.emu.Emulator.MutatingRequests()) != 0 {
				t.Errorf("%d mutating requests, want none", len(f.emu.Emulator.MutatingRequests()))
			}
			if sum.Invites.CapExceeded != tt.capHit || sum.Scanned != len(f.ids) {
				t.Errorf("cap exceeded %v (want %v), scanned %d", sum.Invites.CapExceeded, tt.capHit, sum.Scanned)
			}
			if got := f.metric("InvitesDeleted"); int(got) != len(tt.deleted) {
				t.Errorf("InvitesDeleted = %v", got)
			}
			if got := f.metric("InvitesReported"); int(got) != tt.reported {
				t.Errorf("InvitesReported = %v, want %d", got, tt.reported)
			}
			if got := f.metric("CapExceeded"); got != map[bool]float64{true: 1, false: 0}[tt.capHit] {
				t.Errorf("CapExceeded = %v", got)
			}
			if f.metric("RunDurationMs") < 0 {
				t.Error("no RunDurationMs")
			}
			events := f.eb.Events()
			if len(events) != 1 || events[0].DetailType != "orgwarden.invitecleanup.summary" || events[0].EventBusName != bus {
				t.Fatalf("summary events %+v", events)
			}
			var published cleanup.Summary
			if err := json.Unmarshal(events[0].Detail, &published); err != nil || published.RunID != sum.RunID {
				t.Errorf("published %s", events[0].Detail)
			}
			remaining := map[string]bool{}
			for _, inv := range f.emu.Emulator.Invites() {
				remaining[inv.ID] = true
			}
			for _, name := range tt.deleted {
				if remaining[f.ids[name]] {
					t.Errorf("%s still exists", name)
				}
			}
		})
	}
}

func TestCleanupPreviewMatchesRealRun(t *testing.T) {
	f := newFixture(t)
	h := f.handler(cleanup.Config{MaxAge: 14 * day})
	preview, err := h.Run(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	real, err := h.Run(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(preview.Invites.Deletions), ids(real.Invites.Deletions)) || !slices.Equal(ids(preview.Invites.Deletions), slices.Sorted(slices.Values(f.deletedIDs()))) {
		t.Errorf("preview %v, real plan %v, deleted %v", ids(preview.Invites.Deletions), ids(real.Invites.Deletions), f.deletedIDs())
	}
}

func TestCleanupListingErrorDeletesNothing(t *testing.T) {
	f := newFixture(t)
	f.emu.Emulator.InjectFault(adminapi.Rule{Method: "GET", PathPattern: "/organization/invites", Status: 500, Count: 10})
	sum, err := f.handler(cleanup.Config{MaxAge: 14 * day}).Run(t.Context(), false)
	if err == nil || len(sum.Errors) == 0 {
		t.Fatalf("want an error, got %v", err)
	}
	if n := len(f.emu.Emulator.MutatingRequests()); n != 0 {
		t.Errorf("%d mutating requests after a listing error", n)
	}
	if len(f.eb.Events()) != 1 {
		t.Error("a failed run must still publish its summary")
	}
}

func TestCleanupReportsFailedDeletions(t *testing.T) {
	f := newFixture(t)
	f.emu.Emulator.InjectFault(adminapi.Rule{Method: "DELETE", PathPattern: "/organization/invites/" + f.ids["old"], Status: 400})
	sum, err := f.handler(cleanup.Config{MaxAge: 14 * day}).Run(t.Context(), false)
	if err == nil || sum.Counts.Failed != 1 || sum.Counts.Deleted != 3 {
		t.Fatalf("err %v, counts %+v", err, sum.Counts)
	}
}

func TestInvalidEvents(t *testing.T) {
	f := newFixture(t)
	h := f.handler(cleanup.Config{MaxAge: 14 * day})
	for _, payload := range []string{`{"SecretId":"x","Step":"createSecret","ClientRequestToken":"t"}`, `{"dry_run":"yes"}`, `[1]`} {
		if _, err := lambda.NewHandler(h.Handle).Invoke(t.Context(), []byte(payload)); err == nil {
			t.Errorf("payload %s accepted", payload)
		}
	}
	if n := len(f.emu.Emulator.Requests()); n != 0 {
		t.Errorf("%d API requests for refused events", n)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	f := newFixture(t)
	h, err := cleanup.FromEnv(t.Context(), config.MapEnv(map[string]string{
		"OPENAI_BASE_URL": f.emu.URL, "OPENAI_ADMIN_KEY": f.emu.AdminKey, "ORGWARDEN_DRY_RUN": "1", "ORGWARDEN_INVITE_MAX_AGE": "30d",
	}), app.Options{Out: f.out})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := h.Run(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.DryRun || sum.MaxAge != "30d" || len(f.emu.Emulator.MutatingRequests()) != 0 {
		t.Errorf("configuration not applied: %+v", sum)
	}
	_, err = cleanup.FromEnv(t.Context(), config.MapEnv(map[string]string{"ORGWARDEN_INVITE_MAX_AGE": "two weeks"}), app.Options{Out: f.out})
	for _, name := range []string{"ORGWARDEN_INVITE_MAX_AGE", "OPENAI_ADMIN_KEY"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

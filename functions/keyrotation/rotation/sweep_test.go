package rotation_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/sweep"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

const day = 24 * time.Hour

// org is an organization with keys of known ages; ids maps a test name to
// the id the emulator gave it.
type org struct {
	ids           map[string]string
	managedSecret string
}

func seedOrg(f *fixture) *org {
	f.t.Helper()
	e := f.emu.Emulator
	o := &org{ids: map[string]string{}}
	must := func(id string, err error) string {
		f.t.Helper()
		if err != nil {
			f.t.Fatal(err)
		}
		return id
	}
	user := func(email, role string) string { return must(e.AddUser(adminapi.NewUser{Email: email, Role: role})) }
	dev := user("dev@example.com", "reader")
	boss := user("boss@example.com", "owner")
	ceo := user("ceo@example.com", "reader")
	partner := user("x@partner.io", "reader")

	apps := must(e.AddProject(adminapi.NewProject{Name: "Apps"}))
	prod := must(e.AddProject(adminapi.NewProject{Name: "Prod"}))
	o.ids["apps"], o.ids["prod"] = apps, prod
	for _, p := range []string{apps, prod} {
		for _, u := range []string{dev, boss, ceo, partner} {
			if err := e.AddProjectUser(p, u, "member"); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	key := func(name, project string, nk adminapi.NewProjectAPIKey) {
		f.t.Helper()
		nk.Name = cmpOr(nk.Name, name)
		id, _, err := e.AddProjectAPIKey(project, nk)
		o.ids[name] = must(id, err)
	}
	ago := func(d time.Duration) time.Time { return t0.Add(-d) }
	key("fresh", apps, adminapi.NewProjectAPIKey{OwnerUserID: dev, CreatedAt: ago(200 * day), LastUsedAt: ago(day)})
	key("unused", apps, adminapi.NewProjectAPIKey{OwnerUserID: dev, CreatedAt: ago(200 * day), LastUsedAt: ago(100 * day)})
	key("young-never-used", apps, adminapi.NewProjectAPIKey{OwnerUserID: dev, CreatedAt: ago(10 * day)})
	key("old-never-used", apps, adminapi.NewProjectAPIKey{OwnerUserID: dev, CreatedAt: ago(40 * day)})
	key("owners-key", apps, adminapi.NewProjectAPIKey{OwnerUserID: boss, CreatedAt: ago(300 * day), LastUsedAt: ago(200 * day)})
	key("protected-name", apps, adminapi.NewProjectAPIKey{Name: "ci-deploy", OwnerUserID: dev, CreatedAt: ago(300 * day), LastUsedAt: ago(200 * day)})
	key("protected-email", apps, adminapi.NewProjectAPIKey{OwnerUserID: ceo, CreatedAt: ago(300 * day), LastUsedAt: ago(200 * day)})
	key("protected-domain", apps, adminapi.NewProjectAPIKey{OwnerUserID: partner, CreatedAt: ago(300 * day), LastUsedAt: ago(200 * day)})
	key("protected-id", apps, adminapi.NewProjectAPIKey{OwnerUserID: dev, CreatedAt: ago(300 * day), LastUsedAt: ago(200 * day)})
	key("in-protected-project", prod, adminapi.NewProjectAPIKey{OwnerUserID: dev, CreatedAt: ago(300 * day), LastUsedAt: ago(200 * day)})

	sa := func(name string) string {
		id := must(e.AddServiceAccount(apps, adminapi.NewServiceAccount{Name: name, CreatedAt: ago(300 * day)}))
		o.ids[name] = id
		return id
	}
	staleSA, mixedSA, guardedSA, managedSA := sa("stale-sa"), sa("mixed-sa"), sa("guarded-sa"), sa("managed-sa")
	key("stale-sa-1", apps, adminapi.NewProjectAPIKey{OwnerServiceAccountID: staleSA, CreatedAt: ago(300 * day), LastUsedAt: ago(120 * day)})
	key("stale-sa-2", apps, adminapi.NewProjectAPIKey{OwnerServiceAccountID: staleSA, CreatedAt: ago(50 * day)})
	key("mixed-sa-1", apps, adminapi.NewProjectAPIKey{OwnerServiceAccountID: mixedSA, CreatedAt: ago(300 * day), LastUsedAt: ago(120 * day)})
	key("mixed-sa-2", apps, adminapi.NewProjectAPIKey{OwnerServiceAccountID: mixedSA, CreatedAt: ago(300 * day), LastUsedAt: ago(2 * day)})
	key("guarded-sa-1", apps, adminapi.NewProjectAPIKey{OwnerServiceAccountID: guardedSA, CreatedAt: ago(300 * day), LastUsedAt: ago(120 * day)})
	key("guarded-sa-2", apps, adminapi.NewProjectAPIKey{Name: "ci-deploy", OwnerServiceAccountID: guardedSA, CreatedAt: ago(300 * day), LastUsedAt: ago(120 * day)})
	managedKey, managedValue, err := e.AddProjectAPIKey(apps, adminapi.NewProjectAPIKey{OwnerServiceAccountID: managedSA, CreatedAt: ago(45 * day)})
	o.ids["managed-sa-1"] = must(managedKey, err)
	o.managedSecret = f.createSecret("apps/managed", secretdoc.Doc{Type: secretdoc.TypeServiceAccountKey, APIKey: logging.Secret(managedValue),
		KeyID: managedKey, ProjectID: apps, ServiceAccountID: managedSA, ServiceAccountName: "managed-sa"})

	adminKey := func(name string, created, used time.Time) {
		id, _, err := e.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: name, CreatedAt: created, LastUsedAt: used})
		o.ids[name] = must(id, err)
	}
	adminKey("admin-stale", ago(400*day), ago(100*day))
	adminKey("admin-fresh", ago(400*day), ago(3*day))
	adminKey("admin-never-used-old", ago(100*day), time.Time{})
	return o
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (o *org) rules() guard.Rules {
	return guard.Rules{Protection: guard.Protection{
		Names: []string{"ci-deploy"}, Emails: []string{"CEO@example.com"}, Domains: []string{"partner.io"},
		IDs: []string{o.ids["protected-id"]}, Projects: []string{o.ids["prod"]},
	}}
}

func (o *org) names(ids []string) []string {
	byID := map[string]string{}
	for name, id := range o.ids {
		byID[id] = name
	}
	var out []string
	for _, id := range ids {
		out = append(out, cmpOr(byID[id], id))
	}
	slices.Sort(out)
	return out
}

func entryIDs(es []sweep.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// deletedIDs are the ids of every DELETE the emulator received.
func (f *fixture) deletedIDs() []string {
	var out []string
	for _, r := range f.emu.Emulator.MutatingRequests() {
		if r.Method == "DELETE" {
			out = append(out, r.Path[strings.LastIndexByte(r.Path, '/')+1:])
		}
	}
	return out
}

func TestStaleSweep(t *testing.T) {
	alwaysSkipped := []string{"guarded-sa", "in-protected-project", "managed-sa", "owners-key", "protected-domain", "protected-email", "protected-id", "protected-name"}
	tests := []struct {
		name       string
		configure  func(c *rotation.Config)
		dryRun     bool // configured
		eventDry   bool // asked for by the event
		max        int
		deleted    []string // what the real API saw deleted
		planned    []string // the plan's deletions
		reported   []string
		skipped    []string
		capHit     bool
		wantRevoke int
	}{
		{
			name:     "defaults revoke stale user keys and report the rest",
			max:      25,
			deleted:  []string{"old-never-used", "unused"},
			planned:  []string{"old-never-used", "unused"},
			reported: []string{"admin-never-used-old", "admin-stale", "stale-sa"},
			skipped:  alwaysSkipped,
		},
		{
			name: "configured to delete service accounts and admin keys",
			configure: func(c *rotation.Config) {
				c.RevokeAdminKeys, c.DeleteStaleServiceAccounts = true, true
			},
			max:      25,
			deleted:  []string{"admin-never-used-old", "admin-stale", "old-never-used", "stale-sa", "unused"},
			planned:  []string{"admin-never-used-old", "admin-stale", "old-never-used", "stale-sa", "unused"},
			skipped:  alwaysSkipped,
			reported: nil,
		},
		{
			name:     "dry run by configuration lists the same plan and sends nothing",
			dryRun:   true,
			max:      25,
			planned:  []string{"old-never-used", "unused"},
			reported: []string{"admin-never-used-old", "admin-stale", "stale-sa"},
			skipped:  alwaysSkipped,
		},
		{
			name:     "dry run asked by the event",
			eventDry: true,
			max:      25,
			planned:  []string{"old-never-used", "unused"},
			reported: []string{"admin-never-used-old", "admin-stale", "stale-sa"},
			skipped:  alwaysSkipped,
		},
		{
			name:     "above the cap nothing is deleted",
			max:      1,
			planned:  []string{"old-never-used", "unused"},
			reported: []string{"admin-never-used-old", "admin-stale", "stale-sa"},
			skipped:  alwaysSkipped,
			capHit:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, adminapi.Options{})
			o := seedOrg(f)
			f.common.Rules, f.common.DryRun, f.common.MaxDeletions = o.rules(), tt.dryRun, tt.max
			f.cfg.ManagedSecrets = []string{o.managedSecret}
			if tt.configure != nil {
				tt.configure(&f.cfg)
			}
			out, err := invoke(t.Context(), f.handler(), map[string]any{"dry_run": tt.eventDry})
			if err != nil {
				t.Fatal(err)
			}
			var res rotation.Result
			if err := json.Unmarshal(out, &res); err != nil || res.Sweep == nil {
				t.Fatalf("handler result %s: %v", out, err)
			}
			sum := res.Sweep

			if got := o.names(f.deletedIDs()); !slices.Equal(got, sorted(tt.deleted)) {
				t.Errorf("deleted %v, want %v", got, tt.deleted)
			}
			if got := o.names(entryIDs(sum.Keys.Deletions)); !slices.Equal(got, sorted(tt.planned)) {
				t.Errorf("planned %v, want %v", got, tt.planned)
			}
			if got := o.names(entryIDs(sum.Keys.Reports)); !slices.Equal(got, sorted(tt.reported)) {
				t.Errorf("reported %v, want %v", got, tt.reported)
			}
			if got := o.names(entryIDs(sum.Keys.Skipped)); !slices.Equal(got, sorted(tt.skipped)) {
				t.Errorf("skipped %v, want %v", got, tt.skipped)
			}
			// No protected item ever reaches a mutating call.
			for _, r := range f.emu.Emulator.MutatingRequests() {
				for _, name := range tt.skipped {
					if strings.Contains(r.Path, o.ids[name]) {
						t.Errorf("protected %s reached %s %s", name, r.Method, r.Path)
					}
				}
			}
			if (tt.dryRun || tt.eventDry || tt.capHit) && len(f.emu.Emulator.MutatingRequests()) != 0 {
				t.Errorf("%d mutating requests, want none", len(f.emu.Emulator.MutatingRequests()))
			}
			if sum.DryRun != (tt.dryRun || tt.eventDry) {
				t.Errorf("summary dry_run = %v", sum.DryRun)
			}
			if sum.Keys.CapExceeded != tt.capHit {
				t.Errorf("cap exceeded = %v, want %v", sum.Keys.CapExceeded, tt.capHit)
			}
			capMetric, _ := f.metric("CapExceeded")
			revoked, _ := f.metric("KeysRevoked")
			reported, _ := f.metric("KeysReported")
			if capMetric != float64(boolInt(tt.capHit)) || int(revoked) != len(tt.deleted) ||
				int(reported) != len(tt.reported)+len(tt.planned)-len(tt.deleted) {
				t.Errorf("metrics CapExceeded=%v KeysRevoked=%v KeysReported=%v", capMetric, revoked, reported)
			}
			events := f.eb.Events()
			if len(events) != 1 || events[0].DetailType != "orgwarden.keyrotation.summary" || events[0].EventBusName != bus {
				t.Fatalf("summary events %+v", events)
			}
			var published rotation.SweepSummary
			if err := json.Unmarshal(events[0].Detail, &published); err != nil || published.RunID != sum.RunID || len(published.Keys.Deletions) != len(sum.Keys.Deletions) {
				t.Errorf("published summary differs from the result: %s", events[0].Detail)
			}
			if lines := f.logLines("summary"); len(lines) != 1 {
				t.Errorf("%d summary log lines, want 1", len(lines))
			}
			for _, e := range sum.Keys.Skipped {
				if e.Reason == "" {
					t.Errorf("skipped %s without a reason", e.ID)
				}
			}
		})
	}
}

// The preview lists exactly what the real run then deletes.
func TestPreviewMatchesRealRun(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	o := seedOrg(f)
	f.common.Rules = o.rules()
	f.cfg.DeleteStaleServiceAccounts, f.cfg.RevokeAdminKeys = true, true
	preview, err := f.handler().Sweep(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.emu.Emulator.MutatingRequests()); n != 0 {
		t.Fatalf("preview sent %d mutating requests", n)
	}
	real, err := f.handler().Sweep(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	want := entryIDs(preview.Keys.Deletions)
	if got := entryIDs(real.Keys.Deletions); !slices.Equal(got, want) {
		t.Errorf("real run planned %v, preview %v", got, want)
	}
	if got := sorted(f.deletedIDs()); !slices.Equal(got, sorted(want)) {
		t.Errorf("real run deleted %v, preview listed %v", o.names(got), o.names(want))
	}
	if !slices.Equal(entryIDs(real.Keys.Skipped), entryIDs(preview.Keys.Skipped)) {
		t.Errorf("skips differ: %v vs %v", entryIDs(real.Keys.Skipped), entryIDs(preview.Keys.Skipped))
	}
	for _, e := range preview.Keys.Deletions {
		if e.Outcome != "dry_run" {
			t.Errorf("preview outcome %q for %s", e.Outcome, e.ID)
		}
	}
}

// A retirement record naming the credential the secret still uses (a
// rotation that recorded it and never promoted) is never acted on.
func TestRetirementOfLiveCredentialIsRefused(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	_, cur := f.version(f.adminSecret, "AWSCURRENT")
	f.tag(f.adminSecret, secretdoc.Retirement{CredentialID: cur.KeyID, Due: t0.Add(-time.Hour)})
	f.cfg.ManagedSecrets = []string{f.adminSecret}
	sum, err := f.handler().Sweep(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Retirements.Deletions) != 0 || len(sum.Retirements.Skipped) != 1 || !strings.Contains(sum.Retirements.Skipped[0].Reason, "still in use") {
		t.Fatalf("retirements %+v", sum.Retirements)
	}
	if n := len(f.emu.Emulator.MutatingRequests()); n != 0 {
		t.Errorf("%d mutating requests", n)
	}
	if err := f.keyWorks(cur); err != nil {
		t.Fatal(err)
	}
}

// Retirements are not held by the cap: a sweep whose stale-key plan is
// too large still retires rotated-out keys.
func TestRetirementsProceedWhenTheCapIsHit(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	o := seedOrg(f)
	id, value, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "rotated out", LastUsedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	f.tag(f.adminSecret, secretdoc.Retirement{CredentialID: id, Due: t0.Add(-time.Minute)})
	f.common.Rules, f.common.MaxDeletions = o.rules(), 0
	f.cfg.ManagedSecrets = []string{f.adminSecret}
	sum, err := f.handler().Sweep(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Keys.CapExceeded || sum.Keys.Count("done") != 0 {
		t.Fatalf("stale keys should be held: %+v", sum.Keys)
	}
	if got := entryIDs(sum.Retirements.Deletions); !slices.Equal(got, []string{id}) || sum.Retirements.Deletions[0].Outcome != "done" {
		t.Fatalf("retirements %+v", sum.Retirements)
	}
	if err := f.keyDead(logging.Secret(value)); err != nil {
		t.Error(err)
	}
	if got := f.deletedIDs(); !slices.Equal(got, []string{id}) {
		t.Errorf("deleted %v, want only the retirement", got)
	}
}

func TestSweepReportsUnreadableProjectsAndGoesOn(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	o := seedOrg(f)
	f.common.Rules = o.rules()
	f.emu.Emulator.InjectFault(adminapi.Rule{Method: "GET", PathPattern: "/organization/projects/" + o.ids["prod"] + "/api_keys", Status: 500, Count: 10})
	sum, err := f.handler().Sweep(t.Context(), false)
	if err == nil || len(sum.Errors) == 0 {
		t.Fatalf("an unreadable project must fail the run: %v %+v", err, sum.Errors)
	}
	if got := o.names(f.deletedIDs()); !slices.Equal(got, []string{"old-never-used", "unused"}) {
		t.Errorf("deleted %v: the readable project is still swept", got)
	}
}

func TestSweepStopsWithoutUsers(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	seedOrg(f)
	f.emu.Emulator.InjectFault(adminapi.Rule{Method: "GET", PathPattern: "/organization/users", Status: 500, Count: 10})
	_, err := f.handler().Sweep(t.Context(), false)
	if err == nil || !strings.Contains(err.Error(), "recognise owners") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.emu.Emulator.MutatingRequests()); n != 0 {
		t.Errorf("%d mutating requests without knowing who the owners are", n)
	}
}

func (f *fixture) tag(arn string, r secretdoc.Retirement) {
	f.t.Helper()
	if _, err := f.smc.TagResource(f.t.Context(), tagInput(arn, r)); err != nil {
		f.t.Fatal(err)
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func tagInput(arn string, r secretdoc.Retirement) *secretsmanager.TagResourceInput {
	return &secretsmanager.TagResourceInput{SecretId: aws.String(arn), Tags: []smtypes.Tag{r.Tag()}}
}

package adminapi_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

func newSeeded(t testing.TB, s adminapi.Seed) *adminapi.Emulator {
	t.Helper()
	emu, err := adminapi.New(adminapi.Options{Seed: &s, Clock: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	return emu
}

// state is everything a seed decides.
func state(emu *adminapi.Emulator) map[string]any {
	out := map[string]any{
		"users": emu.Users(), "invites": emu.Invites(), "projects": emu.Projects(), "admin keys": emu.AdminAPIKeys(),
		"secrets": emu.IssuedSecrets(), "events": emu.AuditEventIDs(),
	}
	for _, p := range emu.Projects() {
		out["members "+p.ID] = emu.ProjectUsers(p.ID)
		out["service accounts "+p.ID] = emu.ServiceAccounts(p.ID)
		out["keys "+p.ID] = emu.ProjectAPIKeys(p.ID)
	}
	return out
}

func TestSeedIsDeterministic(t *testing.T) {
	a, b := state(newSeeded(t, adminapi.SmallSeed(5))), state(newSeeded(t, adminapi.SmallSeed(5)))
	if !reflect.DeepEqual(a, b) {
		for k := range a {
			if !reflect.DeepEqual(a[k], b[k]) {
				t.Errorf("same seed, different %s", k)
			}
		}
	}
	c := state(newSeeded(t, adminapi.SmallSeed(6)))
	if reflect.DeepEqual(a["users"], c["users"]) || reflect.DeepEqual(a["events"], c["events"]) {
		t.Fatal("different seed values gave the same organization")
	}
}

func TestSmallSeedCoversTheCases(t *testing.T) {
	emu := newSeeded(t, adminapi.SmallSeed(1))
	now := fixedNow
	owners := 0
	for _, u := range emu.Users() {
		if u.Role == "owner" {
			owners++
		}
	}
	if n := len(emu.Users()); n != 40 || owners != 2 {
		t.Errorf("%d users, %d owners; want 40 and 2", n, owners)
	}
	var archived, defaults int
	for _, p := range emu.Projects() {
		if p.Status == "archived" {
			archived++
		}
		if p.Default {
			defaults++
		}
	}
	if len(emu.Projects()) != 6 || archived != 1 || defaults != 1 || !emu.Projects()[0].Default {
		t.Errorf("projects: %d, %d archived, %d default", len(emu.Projects()), archived, defaults)
	}
	statuses := map[string]int{}
	oldPending := false
	for _, in := range emu.Invites() {
		statuses[in.Status]++
		if in.Status == adminapi.InvitePending && now.Sub(in.CreatedAt) > 14*24*time.Hour {
			oldPending = true
		}
	}
	if statuses["pending"] == 0 || statuses["accepted"] == 0 || statuses["expired"] == 0 || !oldPending {
		t.Errorf("invites %v, a pending one older than 14 days: %v", statuses, oldPending)
	}
	kinds := map[string]int{}
	for _, p := range emu.Projects() {
		for _, k := range emu.ProjectAPIKeys(p.ID) {
			switch {
			case k.LastUsedAt.IsZero():
				kinds["never used"]++
			case now.Sub(k.LastUsedAt) > 90*24*time.Hour:
				kinds["stale"]++
			case now.Sub(k.LastUsedAt) < 8*24*time.Hour:
				kinds["in use"]++
			}
			kinds[k.OwnerType]++
			kinds[k.OwnerProjectAccess]++
		}
	}
	for _, k := range []string{"never used", "stale", "in use", "user", "service_account", "active", "inactive"} {
		if kinds[k] == 0 {
			t.Errorf("no %s key in %v", k, kinds)
		}
	}
	if n := emu.AuditEventCount(); n != 3000 {
		t.Errorf("%d audit events", n)
	}
	unusedAdmin := false
	for _, k := range emu.AdminAPIKeys() {
		if k.LastUsedAt.IsZero() && now.Sub(k.CreatedAt) > 30*24*time.Hour {
			unusedAdmin = true
		}
	}
	if len(emu.AdminAPIKeys()) != 3 || !unusedAdmin {
		t.Errorf("admin keys %+v", emu.AdminAPIKeys())
	}
}

func TestSeedSizesAreConfigurable(t *testing.T) {
	s := adminapi.Seed{Value: 3, Users: 120, Owners: 1, Projects: 200, MembersPerProject: 2, KeysPerProject: 1,
		AuditEvents: 500, WideUserProjects: 200}
	emu := newSeeded(t, s)
	if len(emu.Users()) != 121 || len(emu.Projects()) != 200 || emu.AuditEventCount() != 500 {
		t.Fatalf("%d users, %d projects, %d events", len(emu.Users()), len(emu.Projects()), emu.AuditEventCount())
	}
	var wide string
	for _, u := range emu.Users() {
		if u.Email == adminapi.WideUserEmail {
			wide = u.ID
		}
	}
	memberOf, keys := 0, 0
	for _, p := range emu.Projects() {
		for _, pu := range emu.ProjectUsers(p.ID) {
			if pu.UserID == wide {
				memberOf++
			}
		}
		for _, k := range emu.ProjectAPIKeys(p.ID) {
			if k.OwnerID == wide {
				keys++
			}
		}
	}
	if wide == "" || memberOf != 200 || keys != 200 {
		t.Fatalf("wide user %q is in %d projects with %d keys, want 200 and 200", wide, memberOf, keys)
	}
}

func TestSeedValidation(t *testing.T) {
	for _, s := range []adminapi.Seed{
		{Users: 0, Owners: 0, Projects: 1},
		{Users: 3, Owners: 4, Projects: 1},
		{Users: 3, Owners: 1, Projects: 0},
		{Users: 3, Owners: 1, Projects: 2, ArchivedProjects: 2},
		{Users: 3, Owners: 1, Projects: 2, WideUserProjects: 3},
	} {
		if _, err := adminapi.New(adminapi.Options{Seed: &s}); err == nil || !strings.Contains(err.Error(), "seed") {
			t.Errorf("seed %+v accepted (%v)", s, err)
		}
	}
}

func TestNamedSeed(t *testing.T) {
	for name, want := range map[string]adminapi.Seed{"small": adminapi.SmallSeed(4), "large": adminapi.LargeSeed(4)} {
		if got, err := adminapi.NamedSeed(name, 4); err != nil || got != want {
			t.Errorf("NamedSeed(%q) = %+v, %v", name, got, err)
		}
	}
	if _, err := adminapi.NamedSeed("medium", 1); err == nil {
		t.Error("NamedSeed accepted medium")
	}
}

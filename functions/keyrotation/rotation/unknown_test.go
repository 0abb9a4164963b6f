package rotation_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// What the API does not say is unknown, never "never used" and never
// whichever owner object happens to be present: a key the API describes
// without last_used_at or without a usable owner is skipped and reported,
// not deleted on that ground, while the rest of the sweep goes on. Every
// deletion is switched on (service accounts, admin keys) so that any wrong
// reading would reach the API.
func TestSweepDoesNotDeleteOnWhatTheAPIDidNotSay(t *testing.T) {
	tests := []struct {
		name  string
		key   string // seedOrg name of the key to reshape
		shape adminapi.Shape
		// offSpec shapes break the spec (a project key's last_used_at is
		// required): served without contract validation.
		offSpec bool
		// kept must not be deleted; skipped must be in the summary's
		// skipped, with a reason containing why.
		kept    []string
		skipped string
		why     string
	}{
		{name: "admin key without last_used_at (optional in the spec)", key: "admin-stale",
			shape: adminapi.Shape{OmitLastUsedAt: true}, kept: []string{"admin-stale"}, skipped: "admin-stale", why: "usage unknown"},
		{name: "project key without last_used_at (required, yet absent)", key: "old-never-used", offSpec: true,
			shape: adminapi.Shape{OmitLastUsedAt: true}, kept: []string{"old-never-used"}, skipped: "old-never-used", why: "usage unknown"},
		{name: "service-account key without last_used_at", key: "stale-sa-2", offSpec: true,
			shape: adminapi.Shape{OmitLastUsedAt: true}, kept: []string{"stale-sa"}, skipped: "stale-sa", why: "usage unknown"},
		{name: "stale user key without owner.type", key: "unused",
			shape: adminapi.Shape{OmitOwnerType: true}, kept: []string{"unused"}, skipped: "unused", why: "owner unknown"},
		{name: "user key whose owner.type says service_account", key: "unused",
			shape: adminapi.Shape{OwnerType: "service_account"}, kept: []string{"unused"}, skipped: "unused", why: "owner unknown"},
		{name: "an organization owner's key without owner.user", key: "owners-key",
			shape: adminapi.Shape{OmitOwnerDetail: true}, kept: []string{"owners-key"}, skipped: "owners-key", why: "owner unknown"},
		{name: "a fresh key of a service account without owner.service_account", key: "mixed-sa-2",
			shape: adminapi.Shape{OmitOwnerDetail: true}, kept: []string{"mixed-sa", "mixed-sa-2"}, skipped: "mixed-sa", why: "do not say their owner"},
		{name: "service-account key with an owner.type this code does not know", key: "mixed-sa-2", offSpec: true,
			shape: adminapi.Shape{OwnerType: "organization"}, kept: []string{"mixed-sa", "mixed-sa-2"}, skipped: "mixed-sa", why: "do not say their owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []adminapitest.Option
			if tt.offSpec {
				opts = append(opts, adminapitest.WithoutValidation())
			}
			f := newFixture(t, adminapi.Options{}, opts...)
			o := seedOrg(f)
			f.common.Rules = o.rules()
			f.cfg.ManagedSecrets = []string{o.managedSecret}
			f.cfg.RevokeAdminKeys, f.cfg.DeleteStaleServiceAccounts = true, true
			if err := f.emu.Emulator.SetShape(o.ids[tt.key], tt.shape); err != nil {
				t.Fatal(err)
			}

			out, err := invoke(t.Context(), f.handler(), map[string]any{})
			if err != nil {
				t.Fatal(err)
			}
			var res rotation.Result
			if err := json.Unmarshal(out, &res); err != nil || res.Sweep == nil {
				t.Fatalf("handler result %s: %v", out, err)
			}
			deleted := o.names(f.deletedIDs())
			for _, k := range tt.kept {
				if slices.Contains(deleted, k) {
					t.Errorf("%s was deleted (deleted: %v)", k, deleted)
				}
			}
			for _, r := range f.emu.Emulator.MutatingRequests() {
				if strings.HasSuffix(r.Path, "/") {
					t.Errorf("a delete without an id: %s %s", r.Method, r.Path)
				}
			}
			// The rest of the organization is still swept.
			if !slices.Contains(deleted, "old-never-used") && tt.key != "old-never-used" {
				t.Errorf("the sweep stopped: deleted %v", deleted)
			}
			found := false
			for _, e := range res.Sweep.Keys.Skipped {
				if e.ID == o.ids[tt.skipped] {
					found = true
					if !strings.Contains(e.Reason, tt.why) {
						t.Errorf("%s skipped because %q, want it to say %q", tt.skipped, e.Reason, tt.why)
					}
				}
			}
			if !found {
				t.Errorf("%s is not reported as skipped (skipped: %v)", tt.skipped, o.names(entryIDs(res.Sweep.Keys.Skipped)))
			}
		})
	}
}

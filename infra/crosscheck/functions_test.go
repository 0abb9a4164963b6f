package crosscheck

import (
	"slices"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/functions/invitecleanup/cleanup"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	sharedconfig "github.com/orgwarden/orgwarden/shared/config"
)

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := sharedconfig.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Each function's own parser accepts what the stack sets and reads back the
// values the stack was configured with.
func TestKeyRotationParses(t *testing.T) {
	cfg := stackConfig()
	cfg.KeyRotation.RevokeAdminKeys = true
	r := reader(t, fnenv.KeyRotation, cfg)
	got := rotation.ReadConfig(r)
	if err := r.Err(); err != nil {
		t.Fatalf("keyrotation rejects the stack's environment: %v", err)
	}
	kr := cfg.KeyRotation
	if got.Grace != mustDuration(t, kr.RotationGrace) || got.StaleUnused != mustDuration(t, kr.StaleKeyUnused) ||
		got.StaleNeverUsed != mustDuration(t, kr.StaleKeyNeverUsed) || got.AdminKeyUnused != mustDuration(t, kr.AdminKeyUnused) ||
		!got.RevokeAdminKeys || got.DeleteStaleServiceAccounts != kr.DeleteStaleServiceAccounts {
		t.Errorf("keyrotation read %+v from %+v", got, kr)
	}
	if !slices.Equal(got.ManagedSecrets, deployed.ManagedSecretARNs) {
		t.Errorf("managed secrets %v, want %v", got.ManagedSecrets, deployed.ManagedSecretARNs)
	}
	// Rotation's switch reaches the function apart from the sweep's.
	for _, rotationDry := range []bool{true, false} {
		cfg.KeyRotation.RotationDryRun = rotationDry
		r := reader(t, fnenv.KeyRotation, cfg)
		got := rotation.ReadConfig(r)
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if got.RotationDryRun == nil || *got.RotationDryRun != rotationDry {
			t.Errorf("rotation dry run %v read back as %v", rotationDry, got.RotationDryRun)
		}
		if !sharedconfig.ReadCommon(r).DryRun {
			t.Error("the sweep's dry run changed with rotation's")
		}
	}
}

func TestInviteCleanupParses(t *testing.T) {
	cfg := stackConfig()
	r := reader(t, fnenv.InviteCleanup, cfg)
	got := cleanup.ReadConfig(r)
	if err := r.Err(); err != nil {
		t.Fatalf("invitecleanup rejects the stack's environment: %v", err)
	}
	if got.MaxAge != mustDuration(t, cfg.InviteCleanup.InviteMaxAge) {
		t.Errorf("invite max age %v, want %s", got.MaxAge, cfg.InviteCleanup.InviteMaxAge)
	}
}

func TestAuditExportParses(t *testing.T) {
	cfg := stackConfig()
	cfg.AuditExport.TenantEvents = false
	r := reader(t, fnenv.AuditExport, cfg)
	got := export.ReadConfig(r)
	if err := r.Err(); err != nil {
		t.Fatalf("auditexport rejects the stack's environment: %v", err)
	}
	a := cfg.AuditExport
	if got.OrgID != cfg.OrgID || got.Bucket != deployed.AuditBucket || got.StateBucket != deployed.AuditStateBucket ||
		got.KMSKeyID != deployed.AuditKMSKeyARN || got.StateKMSKeyID != deployed.AuditStateKMSKeyARN || got.Prefix != a.Prefix || got.Lookback != mustDuration(t, a.Lookback) ||
		got.SliceConcurrency != a.SliceConcurrency || got.RolloverBytes != a.RolloverBytes ||
		got.RolloverEvents != a.RolloverEvents || got.TenantEvents {
		t.Errorf("auditexport read %+v from %+v", got, a)
	}
}

func TestInventoryParses(t *testing.T) {
	cfg := stackConfig()
	r := reader(t, fnenv.Inventory, cfg)
	got := snapshot.ReadConfig(r)
	if err := r.Err(); err != nil {
		t.Fatalf("inventory rejects the stack's environment: %v", err)
	}
	if got.Prefix != cfg.Inventory.Prefix || got.OrgID != cfg.OrgID || got.Bucket != deployed.AuditBucket || got.KMSKeyID != deployed.AuditKMSKeyARN {
		t.Errorf("inventory read %+v from %+v", got, cfg.Inventory)
	}
	if sharedconfig.ReadCommon(r).DryRun {
		t.Error("the inventory is configured as a dry run, which it has no use for")
	}
}

package rotation_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// Issue 11, point 4: a managed secret that cannot be read or parsed fails
// the sweep closed. Its credentials are not in the protected set, so no
// admin key and no service account is revoked in the run, retirements
// included; the run fails (the Lambda Errors alarm) and names the secret.
func TestUnreadableManagedSecretFailsTheSweepClosed(t *testing.T) {
	tests := []struct {
		name string
		// store keeps the stale admin key's value in a managed secret that
		// cannot be read, and returns the secret's id.
		store func(f *fixture, value string, keyID string) string
	}{
		{"current value is a bare key, not the JSON document", func(f *fixture, value, _ string) string {
			out, err := f.smc.CreateSecret(f.t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("partner/admin-key"), SecretString: aws.String(value)})
			if err != nil {
				f.t.Fatal(err)
			}
			return aws.ToString(out.ARN)
		}},
		{"pending version is not JSON", func(f *fixture, value, keyID string) string {
			arn := f.createSecret("partner/admin-key", secretdoc.Doc{Type: secretdoc.TypeAdminKey, APIKey: logging.Secret(value), KeyID: keyID})
			if _, err := f.smc.PutSecretValue(f.t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn),
				ClientRequestToken: aws.String(tokenA), SecretString: aws.String("{truncated"), VersionStages: []string{"AWSPENDING"}}); err != nil {
				f.t.Fatal(err)
			}
			return arn
		}},
		{"secret cannot be found", func(f *fixture, _, _ string) string {
			return "arn:aws:secretsmanager:us-east-1:000000000000:secret:partner/admin-key-Gone00"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, adminapi.Options{})
			o := seedOrg(f)
			f.common.Rules = o.rules()
			stale, value, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "partner integration", CreatedAt: t0.Add(-400 * day), LastUsedAt: t0.Add(-200 * day)})
			if err != nil {
				t.Fatal(err)
			}
			retiring, _, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "rotated out", LastUsedAt: t0})
			if err != nil {
				t.Fatal(err)
			}
			f.tag(f.adminSecret, secretdoc.Retirement{CredentialID: retiring, Due: t0.Add(-time.Minute)})
			secret := tt.store(f, value, stale)
			f.cfg.ManagedSecrets = []string{f.adminSecret, secret}
			f.cfg.RevokeAdminKeys, f.cfg.DeleteStaleServiceAccounts = true, true

			sum, err := f.handler().Sweep(t.Context(), false)
			if err == nil || !strings.Contains(err.Error(), secret) {
				t.Fatalf("the run must fail naming %s, got %v", secret, err)
			}
			if !slices.ContainsFunc(sum.Errors, func(e string) bool { return strings.Contains(e, secret) }) {
				t.Errorf("summary errors %v do not name the secret", sum.Errors)
			}
			if !f.adminKeyAlive(stale) || !f.adminKeyAlive(retiring) {
				t.Error("an admin key was revoked while a managed secret was unreadable")
			}
			for _, r := range f.emu.Emulator.MutatingRequests() {
				if strings.Contains(r.Path, "admin_api_keys") || strings.Contains(r.Path, "service_accounts") {
					t.Errorf("sent %s %s while a managed secret was unreadable", r.Method, r.Path)
				}
			}
			// User keys are no managed secret's: their sweep goes on.
			if got := o.names(f.deletedIDs()); !slices.Contains(got, "unused") {
				t.Errorf("deleted %v: stale user keys are still revoked", got)
			}
		})
	}
}

// Issue 11, point 6: a warm container whose cached admin key was rotated
// out and revoked re-reads the secret on the first 401 and carries on.
func TestWarmContainerRecoversAfterRotation(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	warm := f.handler()
	if _, err := warm.Sweep(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	_, old := f.version(f.adminSecret, "AWSCURRENT")
	f.useRotation(f.handler())
	if attempt := f.rotate(f.adminSecret, ""); attempt.Err != nil {
		t.Fatal(attempt.Err)
	}
	f.revoke(old) // a short grace period has ended
	reads := f.sm.Count("GetSecretValue")

	sum, err := warm.Sweep(t.Context(), true)
	if err != nil {
		t.Fatalf("warm container after a rotation: %v", err)
	}
	if sum.Scanned.AdminKeys == 0 {
		t.Error("the sweep saw no admin keys")
	}
	if n := f.sm.Count("GetSecretValue") - reads; n != 1 {
		t.Errorf("%d reads of the secret, want 1 (one refresh, shared by every request)", n)
	}
	if n := len(f.logLines("admin key refreshed after a 401")); n != 1 {
		t.Errorf("%d refresh log lines, want 1", n)
	}
}

package rotation_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// configurationTest replays what Secrets Manager does when a rotation
// schedule is created with RotateImmediately false: it labels a version
// AWSPENDING (here holding pendingValue; "" labels none, as a token Secrets
// Manager has not stored a value under), invokes testSecret alone, then
// removes the label.
func (f *fixture) configurationTest(h *rotation.Handler, arn, token, pendingValue string) error {
	f.t.Helper()
	f.enableRotation(arn)
	if pendingValue != "" {
		if _, err := f.smc.PutSecretValue(f.t.Context(), &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(arn), ClientRequestToken: aws.String(token),
			SecretString: aws.String(pendingValue), VersionStages: []string{"AWSPENDING"},
		}); err != nil {
			f.t.Fatal(err)
		}
	}
	_, err := invoke(f.t.Context(), h, map[string]string{"SecretId": arn, "ClientRequestToken": token, "Step": "testSecret"})
	if pendingValue != "" {
		if _, uerr := f.smc.UpdateSecretVersionStage(f.t.Context(), &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(arn), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(token),
		}); uerr != nil {
			f.t.Fatal(uerr)
		}
	}
	return err
}

func (f *fixture) currentValue(arn string) string {
	f.t.Helper()
	out, err := f.smc.GetSecretValue(f.t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.SecretString)
}

// TestConfigurationTestPassesInDryRun: the stack's first deployment runs
// keyrotation in dry run, and creating each rotation schedule makes Secrets
// Manager call testSecret; the deployment rolls back if it fails. Every
// other step, and a testSecret on a credential that was really minted, is
// still refused in dry run, without a single Admin API request.
func TestConfigurationTestPassesInDryRun(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	f.common.DryRun = true
	placeholder := `{"type":"service_account_key","project_id":"proj_x","service_account_id":"svc_acct_x","service_account_name":"x","api_key":"","key_id":"","bootstrap_placeholder":"Zq3v9AbC"}`
	created, err := f.smc.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("orgwarden/service-accounts/x"), SecretString: aws.String(placeholder)})
	if err != nil {
		t.Fatal(err)
	}
	placeholderARN := aws.ToString(created.ARN)
	other := secretdoc.Doc{Type: secretdoc.TypeAdminKey, APIKey: logging.Secret("sk-admin-" + strings.Repeat("m", 24)), KeyID: "key_minted"}
	minted, err := other.Marshal()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		arn     string
		pending func() string
		wantErr bool
	}{
		{"placeholder secret, pending copy", placeholderARN, func() string { return f.currentValue(placeholderARN) }, false},
		{"placeholder secret, no pending value", placeholderARN, func() string { return "" }, false},
		{"provisioned secret, pending copy of the current key", f.adminSecret, func() string { return f.currentValue(f.adminSecret) }, false},
		{"provisioned secret, pending holds a minted key", f.adminSecret, func() string { return minted }, true},
		{"provisioned secret, token unknown", f.adminSecret, func() string { return "" }, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			f.emu.Emulator.ResetRequests()
			token := fmt.Sprintf("c0ffee00-0000-4000-8000-%012d", i)
			err := f.configurationTest(f.handler(), tt.arn, token, tt.pending())
			if (err != nil) != tt.wantErr {
				t.Fatalf("testSecret: err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "ORGWARDEN_ROTATION_DRY_RUN") {
				t.Errorf("refusal does not name the switch: %v", err)
			}
			if n := len(f.emu.Emulator.Requests()); n != 0 {
				t.Errorf("%d Admin API requests in dry run", n)
			}
		})
	}

	// The other steps stay refused in dry run, configuration test or not.
	for _, step := range []string{"createSecret", "setSecret", "finishSecret"} {
		_, err := invoke(t.Context(), f.handler(), map[string]string{"SecretId": placeholderARN, "ClientRequestToken": "c0ffee00-0000-4000-8000-0000000000ff", "Step": step})
		if err == nil || !strings.Contains(err.Error(), "dry run") {
			t.Errorf("%s in dry run: %v, want a dry-run refusal", step, err)
		}
	}
}

// TestRotationSwitchIsIndependentOfTheSweep: ORGWARDEN_ROTATION_DRY_RUN
// turns rotation on while the sweep keeps previewing, and off while the
// sweep runs for real.
func TestRotationSwitchIsIndependentOfTheSweep(t *testing.T) {
	on, off := false, true
	t.Run("rotation live, sweep dry", func(t *testing.T) {
		f := newFixture(t, adminapi.Options{})
		f.common.DryRun = true
		f.cfg.RotationDryRun = &on
		f.useRotation(f.handler())
		before, _ := f.version(f.adminSecret, "AWSCURRENT")
		if attempt := f.rotate(f.adminSecret, ""); attempt.Err != nil {
			t.Fatalf("rotation with ORGWARDEN_ROTATION_DRY_RUN=false: %v", attempt.Err)
		}
		if after, _ := f.version(f.adminSecret, "AWSCURRENT"); after == before {
			t.Error("AWSCURRENT did not move")
		}
		sum, err := f.handler().Sweep(t.Context(), false)
		if err != nil {
			t.Fatal(err)
		}
		if !sum.DryRun {
			t.Error("the sweep left dry run with rotation")
		}
	})
	t.Run("rotation dry, sweep live", func(t *testing.T) {
		f := newFixture(t, adminapi.Options{})
		f.cfg.RotationDryRun = &off
		f.useRotation(f.handler())
		attempt := f.rotate(f.adminSecret, "")
		if attempt.Err == nil || !strings.Contains(attempt.Err.Error(), "dry run") {
			t.Fatalf("want a dry-run refusal, got %+v", attempt)
		}
		if n := len(f.emu.Emulator.MutatingRequests()); n != 0 {
			t.Errorf("%d mutating requests with rotation in dry run", n)
		}
	})
}

func TestRotationDryRunVariable(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  *bool
	}{{"", nil}, {"false", new(bool)}, {"true", func() *bool { b := true; return &b }()}} {
		env := map[string]string{}
		if tt.value != "" {
			env[rotation.RotationDryRunVar] = tt.value
		}
		r := config.NewReader(config.MapEnv(env))
		got := rotation.ReadConfig(r).RotationDryRun
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("%q read as %v", tt.value, got)
		}
	}
}

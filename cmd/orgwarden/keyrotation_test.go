package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/functions/invitecleanup/cleanup"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager/secretsmanagertest"
)

// hygieneEnv serves an organization with one stale project key and one
// stale invite, and returns the environment both jobs read.
func hygieneEnv(t *testing.T) (map[string]string, *adminapi.Emulator) {
	t.Helper()
	srv := adminapitest.New(t, adminapi.Options{})
	emu := srv.Emulator
	now := emu.Now()
	proj, err := emu.AddProject(adminapi.NewProject{Name: "research"})
	if err != nil {
		t.Fatal(err)
	}
	user, err := emu.AddUser(adminapi.NewUser{Email: "dev@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.AddProjectUser(proj, user, "member"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := emu.AddProjectAPIKey(proj, adminapi.NewProjectAPIKey{Name: "notebook", OwnerUserID: user,
		CreatedAt: now.Add(-200 * 24 * time.Hour), LastUsedAt: now.Add(-120 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.AddInvite(adminapi.NewInvite{Email: "late@example.com", CreatedAt: now.Add(-20 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"OPENAI_BASE_URL":  srv.URL,
		"OPENAI_ADMIN_KEY": srv.AdminKey,
		"AWS_REGION":       awslocal.Region,
	}, emu
}

func TestRunHygieneJobsDryRun(t *testing.T) {
	tests := []struct {
		job     string
		planned func(stdout string) (int, bool)
	}{
		{"keyrotation", func(stdout string) (int, bool) {
			var s rotation.SweepSummary
			err := json.Unmarshal([]byte(stdout), &s)
			return len(s.Keys.Deletions), err == nil && s.DryRun
		}},
		{"invitecleanup", func(stdout string) (int, bool) {
			var s cleanup.Summary
			err := json.Unmarshal([]byte(stdout), &s)
			return len(s.Invites.Deletions), err == nil && s.DryRun
		}},
	}
	for _, tt := range tests {
		t.Run(tt.job, func(t *testing.T) {
			env, emu := hygieneEnv(t)
			code, stdout, stderr := runCLI(t, env, "run", tt.job, "--dry-run")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if n, ok := tt.planned(stdout); n != 1 || !ok {
				t.Errorf("planned %d deletions (want 1), dry run %v: %s", n, ok, stdout)
			}
			if n := len(emu.MutatingRequests()); n != 0 {
				t.Errorf("%d mutating requests in a dry run", n)
			}
			if !strings.Contains(stderr, `"message":"summary"`) {
				t.Errorf("no summary log line on stderr: %s", stderr)
			}
			for _, s := range emu.IssuedSecrets() {
				if strings.Contains(stdout+stderr, s) {
					t.Fatal("output contains key material")
				}
			}
		})
	}
}

func TestInvokeKeyRotationScheduleEvents(t *testing.T) {
	env, emu := hygieneEnv(t)
	for _, file := range []string{"schedule-dry-run.json", "scheduled-event.json"} {
		env["ORGWARDEN_DRY_RUN"] = map[string]string{"schedule-dry-run.json": "false", "scheduled-event.json": "true"}[file]
		code, stdout, stderr := runCLI(t, env, "invoke", "keyrotation", "--event", filepath.Join("..", "..", "functions", "keyrotation", "examples", file))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", file, code, stderr)
		}
		var res rotation.Result
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Sweep == nil || !res.Sweep.DryRun || len(res.Sweep.Keys.Deletions) != 1 {
			t.Errorf("%s: result %s", file, stdout)
		}
	}
	if n := len(emu.MutatingRequests()); n != 0 {
		t.Errorf("%d mutating requests in dry runs", n)
	}
}

// Rotation steps invoked one by one from event files, as an operator would
// debug a rotation: the secret ends up holding a new working key.
func TestInvokeKeyRotationSteps(t *testing.T) {
	env, emu := hygieneEnv(t)
	sm := secretsmanagertest.New(t)
	keyID, value, err := emu.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "orgwarden"})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]string{"type": "admin_key", "api_key": value, "key_id": keyID})
	out, err := sm.Client().CreateSecret(t.Context(), &awssm.CreateSecretInput{Name: aws.String("orgwarden/admin-key"), SecretString: aws.String(string(doc))})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ARN)
	if _, err := sm.Client().RotateSecret(t.Context(), &awssm.RotateSecretInput{SecretId: out.ARN,
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:keyrotation"), RotateImmediately: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	delete(env, "OPENAI_ADMIN_KEY")
	env["OPENAI_ADMIN_KEY_SECRET_ARN"] = arn
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = sm.URL
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = awslocal.AccessKeyID, awslocal.SecretAccessKey

	const token = "6b1f4a52-3c1e-4d8e-9a57-0c3f2b7d9e10"
	dir := t.TempDir()
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		ev, _ := json.Marshal(map[string]string{"Step": step, "SecretId": arn, "ClientRequestToken": token})
		file := filepath.Join(dir, step+".json")
		if err := os.WriteFile(file, ev, 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI(t, env, "invoke", "keyrotation", "--event", file)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", step, code, stderr)
		}
		var res rotation.Result
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Rotation == nil || res.Rotation.Outcome == rotation.OutcomeFailed {
			t.Fatalf("%s: %s", step, stdout)
		}
		if strings.Contains(stdout+stderr, value) {
			t.Fatal("output contains the admin key")
		}
	}
	cur, err := sm.Client().GetSecretValue(t.Context(), &awssm.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cur.VersionId) != token || strings.Contains(aws.ToString(cur.SecretString), value) {
		t.Fatalf("secret not rotated: version %s", aws.ToString(cur.VersionId))
	}
	if n := emu.CountRequests("POST", "/organization/admin_api_keys"); n != 1 {
		t.Errorf("%d admin keys minted, want 1", n)
	}
}

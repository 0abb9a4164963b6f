package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/e2e/harness"
	infraconfig "github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	smlocal "github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// secretDoc is a managed secret's value (docs/architecture.md, "Secret formats").
type secretDoc struct {
	Type               string `json:"type"`
	APIKey             string `json:"api_key"`
	KeyID              string `json:"key_id"`
	ProjectID          string `json:"project_id,omitempty"`
	ServiceAccountID   string `json:"service_account_id,omitempty"`
	ServiceAccountName string `json:"service_account_name,omitempty"`
}

// rotationResult is the keyrotation response to a rotation step.
type rotationResult struct {
	Rotation *struct {
		Step    string   `json:"step"`
		Outcome string   `json:"outcome"`
		Created string   `json:"created"`
		Removed []string `json:"removed"`
		Error   string   `json:"error"`
	} `json:"rotation"`
}

// rotationFunctionARN is the ARN Secrets Manager invokes for rotation.
func (d *deployment) rotationFunctionARN() string {
	return "arn:aws:lambda:us-east-1:000000000000:function:" + d.Config.FunctionName("keyrotation")
}

// rotateThroughLambda makes Secrets Manager invoke fn for each rotation
// step, as the stack's rotation schedule does, and keeps each step's result.
func rotateThroughLambda(t *testing.T, d *deployment, fn *lambdaFunction) *[]rotationResult {
	var results []rotationResult
	d.AWS.SecretsManager.SetRotationInvoker(func(ctx context.Context, arn string, ev smlocal.RotationEvent) error {
		payload, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		res, err := fn.Invoke(ctx, payload, runtimeapi.InvokeOptions{FunctionARN: arn})
		if err != nil {
			return err
		}
		if res.InitDuration > 0 {
			d.s.recordInit(fn.name, res.InitDuration)
		}
		var r rotationResult
		_ = json.Unmarshal(res.Payload, &r)
		results = append(results, r)
		if res.Failed() {
			return fmt.Errorf("%s: %s", res.ErrorType, res.ErrorMessage)
		}
		return nil
	})
	return &results
}

func (d *deployment) rotate(t *testing.T, secretARN string) smlocal.RotationAttempt {
	t.Helper()
	before := len(d.AWS.SecretsManager.Rotations())
	if _, err := d.AWS.SecretsManager.Client().RotateSecret(t.Context(), &awssm.RotateSecretInput{
		SecretId: aws.String(secretARN), RotationLambdaARN: aws.String(d.rotationFunctionARN()),
	}); err != nil && !strings.Contains(err.Error(), "previous rotation isn't complete") {
		t.Fatalf("RotateSecret: %v", err)
	}
	rots := d.AWS.SecretsManager.Rotations()
	if len(rots) != before+1 {
		t.Fatalf("RotateSecret ran %d rotations", len(rots)-before)
	}
	return rots[len(rots)-1]
}

func (d *deployment) current(t *testing.T, secretARN string) secretDoc {
	t.Helper()
	out, err := d.AWS.SecretsManager.Client().GetSecretValue(t.Context(), &awssm.GetSecretValueInput{SecretId: aws.String(secretARN)})
	if err != nil {
		t.Fatal(err)
	}
	var doc secretDoc
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &doc); err != nil {
		t.Fatalf("secret value is not a secret document: %v", err)
	}
	return doc
}

// retirements returns the secret's retirement tags (credential id -> due).
func (d *deployment) retirements(t *testing.T, secretARN string) map[string]string {
	t.Helper()
	out, err := d.AWS.SecretsManager.Client().DescribeSecret(t.Context(), &awssm.DescribeSecretInput{SecretId: aws.String(secretARN)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, tag := range out.Tags {
		if id, ok := strings.CutPrefix(aws.ToString(tag.Key), "orgwarden:retire:"); ok {
			m[id] = aws.ToString(tag.Value)
		}
	}
	return m
}

// authenticates says whether the Admin API accepts key.
func (d *deployment) authenticates(t *testing.T, key string) bool {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, d.APIURL+"/organization/users?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := d.api.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func adminKeyIDs(emu *adminapi.Emulator) []string {
	var out []string
	for _, k := range emu.AdminAPIKeys() {
		out = append(out, k.ID)
	}
	return out
}

// TestKeyRotation: Secrets Manager rotates the deployment's admin key and
// a service-account key through the real function, step by step; the new
// credentials are AWSCURRENT and work, the old ones keep working through
// the grace period and are recorded for retirement. The stack's default
// (a dry run) refuses rotation without changing anything.
func TestKeyRotation(t *testing.T) {
	t.Run("admin and service-account keys", func(t *testing.T) {
		d := deploy(t, deployOptions{configure: func(c *infraconfig.Config) { c.KeyRotation.DryRun, c.KeyRotation.RotationDryRun = false, false }})
		emu := d.Emulator
		proj := emu.Projects()[1].ID
		saID, err := emu.AddServiceAccount(proj, adminapi.NewServiceAccount{Name: "billing-app", Role: "member"})
		if err != nil {
			t.Fatal(err)
		}
		keyID, value, err := emu.AddProjectAPIKey(proj, adminapi.NewProjectAPIKey{Name: "billing-app", OwnerServiceAccountID: saID})
		if err != nil {
			t.Fatal(err)
		}
		saDoc, _ := json.Marshal(secretDoc{Type: "service_account_key", ProjectID: proj, ServiceAccountID: saID, ServiceAccountName: "billing-app", APIKey: value, KeyID: keyID})
		saSecret, err := d.AddManagedSecret(t.Context(), "orgwarden-e2e/service-accounts/billing", string(saDoc))
		if err != nil {
			t.Fatal(err)
		}
		fn := d.function("keyrotation", harness.FunctionOptions{})
		results := rotateThroughLambda(t, d, fn)

		// The admin key the function itself authenticates with.
		old := d.current(t, d.Res.AdminKeySecretARN)
		rot := d.rotate(t, d.Res.AdminKeySecretARN)
		if rot.Err != nil || !slices.Equal(rot.Steps, []string{"createSecret", "setSecret", "testSecret", "finishSecret"}) {
			t.Fatalf("admin key rotation: steps %v, %v", rot.Steps, rot.Err)
		}
		now := d.current(t, d.Res.AdminKeySecretARN)
		if now.KeyID == old.KeyID || now.APIKey == old.APIKey || now.Type != "admin_key" {
			t.Fatal("AWSCURRENT still holds the old admin key")
		}
		if !slices.Contains(adminKeyIDs(emu), now.KeyID) || !d.authenticates(t, now.APIKey) {
			t.Error("the new admin key is not a working key of the organization")
		}
		if !d.authenticates(t, old.APIKey) {
			t.Error("the old admin key stopped working before its grace period ended")
		}
		if due, ok := d.retirements(t, d.Res.AdminKeySecretARN)[old.KeyID]; !ok {
			t.Errorf("no retirement recorded for the old key %s", old.KeyID)
		} else if at, err := time.Parse(time.RFC3339, due); err != nil || at.Before(time.Now().Add(23*time.Hour)) {
			t.Errorf("retirement due %q, want about 24 h from now", due)
		}
		for _, r := range *results {
			if r.Rotation == nil || r.Rotation.Outcome == "failed" {
				t.Errorf("step result %+v", r.Rotation)
			}
		}

		// A service-account key: a new service account and key in the project.
		rot = d.rotate(t, saSecret)
		if rot.Err != nil {
			t.Fatalf("service-account key rotation: %v", rot.Err)
		}
		sa := d.current(t, saSecret)
		if sa.ServiceAccountID == saID || sa.KeyID == keyID || sa.ProjectID != proj || sa.ServiceAccountName != "billing-app" {
			t.Fatalf("service-account secret after rotation: id %s key %s project %s name %s", sa.ServiceAccountID, sa.KeyID, sa.ProjectID, sa.ServiceAccountName)
		}
		found := false
		for _, s := range emu.ServiceAccounts(proj) {
			if s.ID == sa.ServiceAccountID {
				found = true
				if !strings.HasPrefix(s.Name, "billing-app") {
					t.Errorf("new service account named %q", s.Name)
				}
			}
		}
		if !found {
			t.Errorf("the secret names service account %s, which is not in project %s", sa.ServiceAccountID, proj)
		}
		if !slices.ContainsFunc(emu.ServiceAccounts(proj), func(s adminapi.ServiceAccount) bool { return s.ID == saID }) {
			t.Error("the old service account is gone before its grace period ended")
		}
		if _, ok := d.retirements(t, saSecret)[saID]; !ok {
			t.Errorf("no retirement recorded for the old service account %s (tags %v)", saID, d.retirements(t, saSecret))
		}
		_ = fn.Close()
		if got := fn.assertMetrics("RotationSteps", "RunDurationMs"); got["RotationSteps"] != 8 {
			t.Errorf("RotationSteps %v for two four-step rotations", got["RotationSteps"])
		}
	})

	t.Run("lost create response, then reattempt", func(t *testing.T) {
		d := deploy(t, deployOptions{configure: func(c *infraconfig.Config) { c.KeyRotation.DryRun, c.KeyRotation.RotationDryRun = false, false }})
		emu := d.Emulator
		fn := d.function("keyrotation", harness.FunctionOptions{})
		rotateThroughLambda(t, d, fn)
		old := d.current(t, d.Res.AdminKeySecretARN)
		before := len(emu.AdminAPIKeys())

		// The key is created, and the answer is lost: a create is sent once,
		// so the step fails and the rotation stops with its version pending.
		emu.InjectFault(adminapi.Rule{Method: http.MethodPost, PathPattern: "/organization/admin_api_keys", Status: http.StatusBadGateway, AfterCommit: true})
		if rot := d.rotate(t, d.Res.AdminKeySecretARN); rot.Err == nil {
			t.Fatal("the rotation succeeded although the create's answer was lost")
		}
		if d.current(t, d.Res.AdminKeySecretARN).KeyID != old.KeyID {
			t.Fatal("a failed rotation changed AWSCURRENT")
		}
		lost := 0
		for _, r := range emu.Requests() {
			if r.Method == http.MethodPost && r.Path == "/v1/organization/admin_api_keys" && r.Committed && r.Fault != "" {
				lost++
			}
		}
		if lost != 1 {
			t.Fatalf("%d admin keys created with a lost answer, want 1", lost)
		}

		// What an operator (or the next scheduled rotation) does: rotate
		// again. The minted key whose value was lost must not survive.
		rot := d.rotate(t, d.Res.AdminKeySecretARN)
		if rot.Err != nil {
			t.Fatalf("reattempt (resumed a pending version: %v): %v", rot.Resumed, rot.Err)
		}
		now := d.current(t, d.Res.AdminKeySecretARN)
		if now.KeyID == old.KeyID || !d.authenticates(t, now.APIKey) {
			t.Fatal("after the reattempt AWSCURRENT does not hold a new working key")
		}
		if after := len(emu.AdminAPIKeys()); after != before+1 {
			t.Errorf("%d admin keys after the recovery, want %d (old + new; the orphan removed)", after, before+1)
		}
	})

	t.Run("the stack's default dry run refuses", func(t *testing.T) {
		d := deploy(t, deployOptions{})
		if !d.Config.KeyRotation.DryRun {
			t.Fatal("the stack's default is no longer a dry run; this case tests that default")
		}
		fn := d.function("keyrotation", harness.FunctionOptions{})
		rotateThroughLambda(t, d, fn)
		old := d.current(t, d.Res.AdminKeySecretARN)
		rot := d.rotate(t, d.Res.AdminKeySecretARN)
		if rot.Err == nil || !strings.Contains(rot.Err.Error(), "ORGWARDEN_DRY_RUN") {
			t.Fatalf("rotation under a dry run: %v", rot.Err)
		}
		if d.current(t, d.Res.AdminKeySecretARN).KeyID != old.KeyID || len(d.Emulator.MutatingRequests()) != 0 {
			t.Error("a refused rotation changed something")
		}
	})
}

// sweepResult is the keyrotation response to a scheduled sweep.
type sweepResult struct {
	Sweep *struct {
		DryRun bool `json:"dry_run"`
		Keys   struct {
			Deletions   []sweepEntry `json:"deletions"`
			Skipped     []sweepEntry `json:"skipped"`
			CapExceeded bool         `json:"cap_exceeded"`
		} `json:"keys"`
		Counts struct {
			Revoked  int `json:"revoked"`
			Reported int `json:"reported"`
		} `json:"counts"`
	} `json:"sweep"`
}

type sweepEntry struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason"`
}

func (s sweepEntry) key() string { return s.ProjectID + "/" + s.ID }

// TestStaleKeySweep: the scheduled sweep over the seeded organization.
// Over the cap it deletes nothing; its preview plans exactly what the real
// run then revokes; protected projects and ids are never reached.
func TestStaleKeySweep(t *testing.T) {
	d := deploy(t, deployOptions{configure: func(c *infraconfig.Config) { c.KeyRotation.DryRun = false }})
	emu := d.Emulator
	mutations := func() int { return len(emu.MutatingRequests()) }
	big := harness.FunctionOptions{Env: map[string]string{"ORGWARDEN_MAX_DELETIONS": "1000"}}

	// A preview without protections shows what is stale; protect one
	// stale key's project, and one stale key elsewhere by id.
	var probe sweepResult
	d.function("keyrotation", big).ok(`{"dry_run":true}`, &probe)
	var protectedProject, protectedKey string
	for _, e := range probe.Sweep.Keys.Deletions {
		switch {
		case e.Kind != "project_api_key":
		case protectedProject == "":
			protectedProject = e.ProjectID
		case protectedKey == "" && e.ProjectID != protectedProject:
			protectedKey = e.ID
		}
	}
	if protectedKey == "" || mutations() != 0 {
		t.Fatalf("the seeded organization needs stale keys in two projects (plan %+v); a preview sent %d changes", probe.Sweep.Keys.Deletions, mutations())
	}
	d.Config.Protected.Projects = []string{protectedProject}
	d.Config.Protected.IDs = []string{protectedKey}

	// The stack's cap is 25; a cap of 1 makes the plan oversized.
	capped := d.function("keyrotation", harness.FunctionOptions{Env: map[string]string{"ORGWARDEN_MAX_DELETIONS": "1"}})
	var held sweepResult
	capped.ok(`{}`, &held)
	if held.Sweep == nil || !held.Sweep.Keys.CapExceeded || mutations() != 0 {
		t.Fatalf("sweep over the cap: %+v, %d changes sent", held.Sweep, mutations())
	}

	fn := d.function("keyrotation", big)
	var preview sweepResult
	fn.ok(`{"dry_run":true}`, &preview)
	if preview.Sweep == nil || !preview.Sweep.DryRun || mutations() != 0 {
		t.Fatalf("preview: %+v, %d changes sent", preview.Sweep, mutations())
	}
	planned := map[string]bool{}
	for _, e := range preview.Sweep.Keys.Deletions {
		planned[e.key()] = true
	}
	if len(planned) == 0 {
		t.Fatal("the preview plans nothing: the seeded organization has no stale key to test with")
	}

	var real sweepResult
	fn.ok(scheduledRuleEvent("orgwarden-keyrotation-sweep"), &real)
	revoked := map[string]bool{}
	for _, e := range real.Sweep.Keys.Deletions {
		if e.Outcome != "done" {
			t.Errorf("deletion %s: %s", e.key(), e.Outcome)
		}
		revoked[e.key()] = true
		if e.Kind == "project_api_key" {
			if slices.ContainsFunc(emu.ProjectAPIKeys(e.ProjectID), func(k adminapi.ProjectAPIKey) bool { return k.ID == e.ID }) {
				t.Errorf("key %s reported revoked still exists", e.key())
			}
		}
	}
	if fmt.Sprint(sortedKeys(revoked)) != fmt.Sprint(sortedKeys(planned)) {
		t.Errorf("the real run revoked %d credentials, the preview planned %d: they differ", len(revoked), len(planned))
	}
	for _, r := range emu.MutatingRequests() {
		if strings.Contains(r.Path, protectedProject) || strings.Contains(r.Path, protectedKey) {
			t.Errorf("protected credential reached: %s %s", r.Method, r.Path)
		}
	}
	for _, e := range probe.Sweep.Keys.Deletions {
		if (e.ProjectID == protectedProject || e.ID == protectedKey) && !slices.ContainsFunc(real.Sweep.Keys.Skipped, func(s sweepEntry) bool { return s.key() == e.key() }) {
			t.Errorf("protected stale key %s is not reported as skipped", e.key())
		}
		if planned[e.key()] != !(e.ProjectID == protectedProject || e.ID == protectedKey) {
			t.Errorf("stale key %s: planned=%v under protection", e.key(), planned[e.key()])
		}
	}

	// Another sweep finds nothing left to revoke.
	var again sweepResult
	fn.ok(`{}`, &again)
	if n := len(again.Sweep.Keys.Deletions); n != 0 {
		t.Errorf("a second sweep planned %d deletions", n)
	}
	_ = capped.Close()
	_ = fn.Close()
	capped.assertMetrics("CapExceeded", "KeysRevoked", "KeysReported", "RunDurationMs")
	if got := fn.assertMetrics("KeysRevoked"); got["KeysRevoked"] != float64(len(revoked)) {
		t.Errorf("KeysRevoked %v, revoked %d", got["KeysRevoked"], len(revoked))
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

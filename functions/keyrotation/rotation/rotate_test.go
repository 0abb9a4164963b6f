package rotation_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	smlocal "github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager"
)

// kind is one of the two secret types, with what a test needs to set one
// up and to count what a rotation created.
type kind struct {
	name string
	// setup creates the secret and returns its ARN.
	setup func(f *fixture) string
	// creates counts the create calls of this type's credential.
	creates string
	// credentials lists the live credential ids of the type (admin keys,
	// or service accounts of the project).
	credentials func(f *fixture, d secretdoc.Doc) []string
}

var (
	adminKind = kind{
		name:    "admin_key",
		setup:   func(f *fixture) string { return f.adminSecret },
		creates: "/organization/admin_api_keys",
		credentials: func(f *fixture, _ secretdoc.Doc) []string {
			var ids []string
			for _, k := range f.emu.Emulator.AdminAPIKeys() {
				ids = append(ids, k.ID)
			}
			return ids
		},
	}
	serviceAccountKind = kind{
		name:    "service_account_key",
		setup:   setupServiceAccount,
		creates: "/organization/projects/*/service_accounts",
		credentials: func(f *fixture, d secretdoc.Doc) []string {
			var ids []string
			for _, sa := range f.emu.Emulator.ServiceAccounts(d.ProjectID) {
				ids = append(ids, sa.ID)
			}
			return ids
		},
	}
	kinds = []kind{adminKind, serviceAccountKind}
)

// setupServiceAccount makes a project with an owner-role service account
// "billing-app" and one key, and a secret holding that key.
func setupServiceAccount(f *fixture) string {
	f.t.Helper()
	e := f.emu.Emulator
	proj, err := e.AddProject(adminapi.NewProject{Name: "Billing"})
	if err != nil {
		f.t.Fatal(err)
	}
	sa, err := e.AddServiceAccount(proj, adminapi.NewServiceAccount{Name: "billing-app", Role: "owner"})
	if err != nil {
		f.t.Fatal(err)
	}
	keyID, value, err := e.AddProjectAPIKey(proj, adminapi.NewProjectAPIKey{Name: "Secret Key", OwnerServiceAccountID: sa, LastUsedAt: t0})
	if err != nil {
		f.t.Fatal(err)
	}
	return f.createSecret("apps/billing/openai", secretdoc.Doc{
		Type: secretdoc.TypeServiceAccountKey, APIKey: logging.Secret(value), KeyID: keyID,
		ProjectID: proj, ServiceAccountID: sa, ServiceAccountName: "billing-app",
	})
}

// alwaysWorks is a hook that checks, before and after every step, that
// the secret's AWSCURRENT value works.
func alwaysWorks(f *fixture, arn string) stepHook {
	return func(ev smlocal.RotationEvent, phase string, err error) error {
		_, cur := f.version(arn, "AWSCURRENT")
		if werr := f.keyWorks(cur); werr != nil {
			f.t.Errorf("%s %s: AWSCURRENT does not work: %v", phase, ev.Step, werr)
		}
		return err
	}
}

func TestFullRotation(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := newFixture(t, adminapi.Options{})
			arn := k.setup(f)
			oldVersion, old := f.version(arn, "AWSCURRENT")
			before := k.credentials(f, old)
			f.useRotation(f.handler(), alwaysWorks(f, arn))

			attempt := f.rotate(arn, "")
			if attempt.Err != nil {
				t.Fatalf("rotation failed: %v", attempt.Err)
			}
			newVersion, cur := f.version(arn, "AWSCURRENT")
			if newVersion != attempt.Token || newVersion == oldVersion {
				t.Fatalf("AWSCURRENT is %s, want the rotation's version %s", newVersion, attempt.Token)
			}
			if err := f.keyWorks(cur); err != nil {
				t.Fatalf("new current value does not work: %v", err)
			}
			if cur.CredentialID() == old.CredentialID() || cur.APIKey == old.APIKey {
				t.Fatal("the secret still holds the old credential")
			}
			if n := f.count("POST", k.creates); n != 1 {
				t.Errorf("%d creates sent, want exactly 1", n)
			}
			after := k.credentials(f, cur)
			if len(after) != len(before)+1 || !slices.Contains(after, cur.CredentialID()) {
				t.Errorf("credentials before %v, after %v: want exactly the new one added", before, after)
			}
			if prev := versionWith(f.describe(arn), "AWSPREVIOUS"); prev != oldVersion {
				t.Errorf("AWSPREVIOUS on %s, want the old version %s", prev, oldVersion)
			}
			if k.name == "service_account_key" {
				sas := f.emu.Emulator.ServiceAccounts(cur.ProjectID)
				i := slices.IndexFunc(sas, func(sa adminapi.ServiceAccount) bool { return sa.ID == cur.ServiceAccountID })
				if sas[i].Role != "owner" || !strings.HasPrefix(sas[i].Name, "billing-app.rot-") || cur.ServiceAccountName != "billing-app" {
					t.Errorf("new service account %+v, secret name %q: want role owner, named after billing-app", sas[i], cur.ServiceAccountName)
				}
			}

			// The old credential keeps working through the grace period,
			// which the secret's tags record.
			if err := f.keyWorks(old); err != nil {
				t.Errorf("old key stopped working before its grace period ended: %v", err)
			}
			rets, errs := secretdoc.Retirements(f.describe(arn).Tags)
			if len(errs) > 0 || len(rets) != 1 || rets[0].CredentialID != old.CredentialID() || !rets[0].Due.Equal(t0.Add(24*time.Hour)) {
				t.Fatalf("retirement record %+v %v, want %s due %s", rets, errs, old.CredentialID(), t0.Add(24*time.Hour))
			}
			if steps, _ := f.metric("RotationSteps"); steps != 1 {
				t.Errorf("RotationSteps = %v in the last EMF line", steps)
			}
			if n := len(f.logLines("summary")); n != 4 {
				t.Errorf("%d summary lines, want one per step", n)
			}
			if n := len(f.eb.Events()); n != 4 {
				t.Errorf("%d summary events, want one per step", n)
			}

			// A sweep within the grace period leaves the old credential alone;
			// one after it deletes it, and only it.
			f.cfg.ManagedSecrets = []string{arn}
			sum, err := f.handler().Sweep(t.Context(), false)
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.Retirements.Pending) != 1 || len(sum.Retirements.Deletions) != 0 {
				t.Errorf("within grace: %+v", sum.Retirements)
			}
			f.emu.Emulator.AdvanceClock(25 * time.Hour)
			sum, err = f.handler().Sweep(t.Context(), false)
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.Retirements.Deletions) != 1 || sum.Retirements.Deletions[0].ID != old.CredentialID() || sum.Retirements.Deletions[0].Outcome != "done" {
				t.Fatalf("after grace: %+v", sum.Retirements)
			}
			if err := f.keyDead(old.APIKey); err != nil {
				t.Error(err)
			}
			if err := f.keyWorks(cur); err != nil {
				t.Errorf("current key broken by the retirement: %v", err)
			}
			if rets, _ := secretdoc.Retirements(f.describe(arn).Tags); len(rets) != 0 {
				t.Errorf("retirement record left behind: %+v", rets)
			}
			if got := k.credentials(f, cur); len(got) != len(before) {
				t.Errorf("credentials %v: want as many as before the rotation", got)
			}
		})
	}
}

// A Lambda that dies after a step has done its work: Secrets Manager sees a
// failure and retries the rotation with the same token.
func TestRotationConvergesAfterAStopAfterEachStep(t *testing.T) {
	for _, k := range kinds {
		for _, stopAfter := range []string{rotation.StepCreate, rotation.StepSet, rotation.StepTest, rotation.StepFinish} {
			t.Run(k.name+"/"+stopAfter, func(t *testing.T) {
				f := newFixture(t, adminapi.Options{})
				arn := k.setup(f)
				_, old := f.version(arn, "AWSCURRENT")
				stopped := false
				stop := func(ev smlocal.RotationEvent, phase string, err error) error {
					if phase == "after" && ev.Step == stopAfter && !stopped {
						stopped = true
						return errors.Join(err, errors.New("process stopped"))
					}
					return err
				}
				f.useRotation(f.handler(), alwaysWorks(f, arn), stop)
				first := f.rotate(arn, "")
				if first.Err == nil || !stopped {
					t.Fatalf("the stop was not injected: %+v", first)
				}
				// Secrets Manager retries; a new container serves the retry.
				f.useRotation(f.handler(), alwaysWorks(f, arn))
				retry := f.rotate(arn, first.Token)
				if retry.Err != nil {
					t.Fatalf("retry failed: %v", retry.Err)
				}
				version, cur := f.version(arn, "AWSCURRENT")
				if version != first.Token {
					t.Fatalf("AWSCURRENT on %s, want %s", version, first.Token)
				}
				if err := f.keyWorks(cur); err != nil {
					t.Fatal(err)
				}
				if n := f.count("POST", k.creates); n != 1 {
					t.Errorf("%d creates, want 1", n)
				}
				if rets, _ := secretdoc.Retirements(f.describe(arn).Tags); len(rets) != 1 || rets[0].CredentialID != old.CredentialID() {
					t.Errorf("retirement records %+v, want one for %s", rets, old.CredentialID())
				}
			})
		}
	}
}

// The create's response is lost after the API made the credential: its
// value is gone for good. The retry finds it by name, deletes it, and mints
// one whose value it keeps.
func TestCreateWithLostResponseLeavesNoOrphan(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := newFixture(t, adminapi.Options{})
			arn := k.setup(f)
			_, old := f.version(arn, "AWSCURRENT")
			before := k.credentials(f, old)
			f.emu.Emulator.InjectFault(adminapi.Rule{Method: "POST", PathPattern: k.creates, Reset: true, AfterCommit: true})
			f.useRotation(f.handler(), alwaysWorks(f, arn))
			first := f.rotate(arn, "")
			if first.Err == nil || !slices.Equal(first.Steps, []string{rotation.StepCreate}) {
				t.Fatalf("createSecret should fail on the lost response: %+v", first)
			}
			if n := f.count("POST", k.creates); n != 1 {
				t.Fatalf("create sent %d times: a create must never be retried blindly", n)
			}
			if got := k.credentials(f, old); len(got) != len(before)+1 {
				t.Fatalf("the orphan was not created: %v", got)
			}
			retry := f.rotate(arn, first.Token)
			if retry.Err != nil {
				t.Fatalf("retry: %v", retry.Err)
			}
			_, cur := f.version(arn, "AWSCURRENT")
			if err := f.keyWorks(cur); err != nil {
				t.Fatal(err)
			}
			after := k.credentials(f, cur)
			if len(after) != len(before)+1 || !slices.Contains(after, cur.CredentialID()) {
				t.Errorf("credentials before %v, after %v: the orphan must be gone and the new one present", before, after)
			}
			if n := f.count("DELETE", k.creates+"/*"); n != 1 {
				t.Errorf("%d deletes, want the orphan's", n)
			}
		})
	}
}

// A pending key that does not work fails the rotation: AWSCURRENT stays,
// the pending credential is deleted and AWSPENDING removed so the next
// rotation can start.
func TestFailedTestSecretLeavesCurrentAndRemovesPending(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := newFixture(t, adminapi.Options{})
			arn := k.setup(f)
			oldVersion, old := f.version(arn, "AWSCURRENT")
			var pending secretdoc.Doc
			// Someone revokes the new credential before it is tested.
			revoke := func(ev smlocal.RotationEvent, phase string, err error) error {
				if phase == "before" && ev.Step == rotation.StepTest {
					pending = f.pending(arn, ev.ClientRequestToken)
					f.revoke(pending)
				}
				return err
			}
			f.useRotation(f.handler(), alwaysWorks(f, arn), revoke)
			attempt := f.rotate(arn, "")
			if attempt.Err == nil || !strings.Contains(attempt.Err.Error(), "does not work") {
				t.Fatalf("rotation should fail in testSecret: %+v", attempt)
			}
			if got := attempt.Steps[len(attempt.Steps)-1]; got != rotation.StepTest {
				t.Fatalf("failed at %s", got)
			}
			d := f.describe(arn)
			if v := versionWith(d, "AWSCURRENT"); v != oldVersion {
				t.Errorf("AWSCURRENT moved to %s", v)
			}
			if v := versionWith(d, "AWSPENDING"); v != "" {
				t.Errorf("AWSPENDING left on %s: it would block the next rotation", v)
			}
			if err := f.keyWorks(old); err != nil {
				t.Errorf("current key broken: %v", err)
			}
			if slices.Contains(k.credentials(f, old), pending.CredentialID()) {
				t.Errorf("pending credential %s still exists", pending.CredentialID())
			}
			if n, _ := f.metric("RotationFailures"); n != 1 {
				t.Errorf("RotationFailures = %v", n)
			}
			// The next rotation starts afresh and succeeds.
			f.useRotation(f.handler(), alwaysWorks(f, arn))
			if next := f.rotate(arn, ""); next.Err != nil || next.Resumed {
				t.Fatalf("next rotation: %+v", next)
			}
		})
	}
}

// A testSecret that cannot reach the API keeps the pending key: the retry
// tests it again and the rotation completes with the one key created.
func TestTransientTestFailureKeepsPending(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	arn := f.adminSecret
	inject := func(ev smlocal.RotationEvent, phase string, err error) error {
		if phase == "before" && ev.Step == rotation.StepTest {
			f.emu.Emulator.InjectFault(adminapi.Rule{Method: "GET", PathPattern: "/organization/admin_api_keys", Status: 503, Count: 3})
		}
		return err
	}
	f.useRotation(f.handler(), alwaysWorks(f, arn), inject)
	first := f.rotate(arn, "")
	if first.Err == nil || !strings.Contains(first.Err.Error(), "could not test") {
		t.Fatalf("want a transient testSecret failure, got %+v", first)
	}
	pending := f.pending(arn, first.Token)
	if err := f.keyWorks(pending); err != nil {
		t.Fatalf("pending key was removed on a transient failure: %v", err)
	}
	f.useRotation(f.handler(), alwaysWorks(f, arn))
	if retry := f.rotate(arn, first.Token); retry.Err != nil {
		t.Fatal(retry.Err)
	}
	if _, cur := f.version(arn, "AWSCURRENT"); cur.KeyID != pending.KeyID {
		t.Errorf("current key %s, want the tested pending key %s", cur.KeyID, pending.KeyID)
	}
	if n := f.count("POST", adminKind.creates); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
}

func TestRotationRefusals(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(f *fixture) (arn, token, step string)
		want    string
	}{
		{"rotation not enabled", func(f *fixture) (string, string, string) {
			return f.adminSecret, "00000000-0000-0000-0000-000000000001", rotation.StepCreate
		}, "not enabled for rotation"},
		{"unknown version", func(f *fixture) (string, string, string) {
			f.enableRotation(f.adminSecret)
			return f.adminSecret, "00000000-0000-0000-0000-000000000002", rotation.StepTest
		}, "has no stage for rotation"},
		{"version is not pending", func(f *fixture) (string, string, string) {
			f.enableRotation(f.adminSecret)
			_, doc := f.version(f.adminSecret, "AWSCURRENT")
			value, _ := doc.Marshal()
			_, err := f.smc.PutSecretValue(f.t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(f.adminSecret),
				ClientRequestToken: aws.String("00000000-0000-0000-0000-000000000003"), SecretString: aws.String(value), VersionStages: []string{"OTHER"}})
			if err != nil {
				f.t.Fatal(err)
			}
			return f.adminSecret, "00000000-0000-0000-0000-000000000003", rotation.StepFinish
		}, "is not AWSPENDING"},
		{"unknown step", func(f *fixture) (string, string, string) {
			return f.adminSecret, "00000000-0000-0000-0000-000000000004", "rotateEverything"
		}, `unknown rotation step "rotateEverything"`},
		{"not an orgwarden secret", func(f *fixture) (string, string, string) {
			out, err := f.smc.CreateSecret(f.t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("db/password"), SecretString: aws.String(`{"password":"hunter2"}`)})
			if err != nil {
				f.t.Fatal(err)
			}
			f.enableRotation(aws.ToString(out.ARN))
			return aws.ToString(out.ARN), "00000000-0000-0000-0000-000000000005", rotation.StepCreate
		}, `secret has no "type"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, adminapi.Options{})
			arn, token, step := tt.prepare(f)
			_, err := invoke(t.Context(), f.handler(), map[string]string{"SecretId": arn, "ClientRequestToken": token, "Step": step})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if n := len(f.emu.Emulator.MutatingRequests()); n != 0 {
				t.Errorf("%d mutating requests sent by a refused step", n)
			}
		})
	}
}

func TestRotationRefusedInDryRun(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	f.common.DryRun = true
	f.useRotation(f.handler())
	attempt := f.rotate(f.adminSecret, "")
	if attempt.Err == nil || !strings.Contains(attempt.Err.Error(), "ORGWARDEN_DRY_RUN") {
		t.Fatalf("want a dry-run refusal, got %+v", attempt)
	}
	if n := len(f.emu.Emulator.MutatingRequests()); n != 0 {
		t.Errorf("%d mutating requests in dry run", n)
	}
}

// pending reads the AWSPENDING value of version token.
func (f *fixture) pending(arn, token string) secretdoc.Doc {
	f.t.Helper()
	out, err := f.smc.GetSecretValue(f.t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(token), VersionStage: aws.String("AWSPENDING")})
	if err != nil {
		f.t.Fatal(err)
	}
	d, err := secretdoc.Parse(aws.ToString(out.SecretString))
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// revoke deletes a credential behind orgwarden's back, with the SDK.
func (f *fixture) revoke(d secretdoc.Doc) {
	f.t.Helper()
	c := f.emu.SDKClient()
	var err error
	if d.Type == secretdoc.TypeAdminKey {
		_, err = c.Admin.Organization.AdminAPIKeys.Delete(f.t.Context(), d.KeyID)
	} else {
		_, err = c.Admin.Organization.Projects.ServiceAccounts.Delete(f.t.Context(), d.ProjectID, d.ServiceAccountID)
	}
	if err != nil {
		f.t.Fatal(fmt.Errorf("revoke %s: %w", d.CredentialID(), err))
	}
}

// enableRotation configures rotation without starting one.
func (f *fixture) enableRotation(arn string) {
	f.t.Helper()
	if _, err := f.smc.RotateSecret(f.t.Context(), &secretsmanager.RotateSecretInput{SecretId: aws.String(arn),
		RotationLambdaARN: aws.String(rotationFn), RotateImmediately: aws.Bool(false)}); err != nil {
		f.t.Fatal(err)
	}
}

// A minted key that cannot be stored is deleted at once: a key nobody holds
// must not outlive the step. Here the new value no longer fits Secrets
// Manager's 64 KiB limit (the old key was shorter, the document padded).
func TestUnstorableKeyIsDeleted(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	short := "sk-admin-" + strings.Repeat("s", 16)
	id, _, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "partner integration", Value: short})
	if err != nil {
		t.Fatal(err)
	}
	value := func(pad int) string {
		return fmt.Sprintf(`{"type":"admin_key","api_key":%q,"key_id":%q,"padding":%q}`, short, id, strings.Repeat("p", pad))
	}
	pad := 65536 - len(value(0)) - 8
	out, err := f.smc.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("partner/admin-key"), SecretString: aws.String(value(pad))})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ARN)
	oldVersion, _ := f.version(arn, "AWSCURRENT")
	before := len(f.emu.Emulator.AdminAPIKeys())
	f.useRotation(f.handler())
	attempt := f.rotate(arn, "")
	if attempt.Err == nil || !strings.Contains(attempt.Err.Error(), "store pending version") {
		t.Fatalf("want a failed store, got %+v", attempt)
	}
	if n := f.count("POST", adminKind.creates); n != 1 {
		t.Fatalf("%d creates", n)
	}
	if n := f.count("DELETE", adminKind.creates+"/*"); n != 1 {
		t.Errorf("%d deletes, want the unstorable key's", n)
	}
	if got := len(f.emu.Emulator.AdminAPIKeys()); got != before {
		t.Errorf("%d admin keys, want %d: the minted key outlived its step", got, before)
	}
	if v, _ := f.version(arn, "AWSCURRENT"); v != oldVersion {
		t.Errorf("AWSCURRENT moved to %s", v)
	}
}

// A secret the stack has just created holds only a placeholder, and
// Secrets Manager runs testSecret when the rotation schedule is created:
// that test must pass (or the deployment fails), while a real rotation of
// the placeholder must refuse, without any call to the Admin API.
func TestPlaceholderSecretPassesTheConfigurationTestOnly(t *testing.T) {
	f := newFixture(t, adminapi.Options{})
	out, err := f.smc.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name:         aws.String("orgwarden/new-admin-key"),
		SecretString: aws.String(`{"type":"admin_key","bootstrap_placeholder":"Zq3v9"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.adminSecret = aws.ToString(out.ARN) // the deployment's own key is not stored yet either
	f.enableRotation(f.adminSecret)
	h := f.handler()
	f.emu.Emulator.ResetRequests()

	tests := []struct {
		step    string
		wantErr bool
	}{
		{"testSecret", false},
		{"createSecret", true},
		{"finishSecret", true},
	}
	for _, tt := range tests {
		_, err := invoke(t.Context(), h, map[string]string{
			"SecretId": f.adminSecret, "ClientRequestToken": "c0ffee00-0000-4000-8000-000000000001", "Step": tt.step,
		})
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v", tt.step, err, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "holds no key yet") {
			t.Errorf("%s: unclear refusal: %v", tt.step, err)
		}
	}
	if n := len(f.emu.Emulator.Requests()); n != 0 {
		t.Errorf("%d Admin API requests for an unprovisioned secret", n)
	}
}

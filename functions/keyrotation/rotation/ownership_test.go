package rotation_test

import (
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
)

// deadAdminKey and deadProjectKey are values the emulator never issued:
// they answer 401, as a revoked or mistyped key does.
var (
	deadAdminKey   = logging.Secret("sk-admin-" + strings.Repeat("d", 48))
	deadProjectKey = logging.Secret("sk-svcacct-" + strings.Repeat("d", 48))
)

// stagePending writes d as the AWSPENDING version token, as anyone allowed
// to PutSecretValue can.
func (f *fixture) stagePending(arn, token string, d secretdoc.Doc) {
	f.t.Helper()
	value, err := d.Marshal()
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.smc.PutSecretValue(f.t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn),
		ClientRequestToken: aws.String(token), SecretString: aws.String(value), VersionStages: []string{"AWSPENDING"}}); err != nil {
		f.t.Fatal(err)
	}
}

// step invokes one rotation step on h, as Secrets Manager or a person does.
func (f *fixture) step(h *rotation.Handler, arn, token, step string) error {
	_, err := invoke(f.t.Context(), h, map[string]string{"SecretId": arn, "ClientRequestToken": token, "Step": step})
	return err
}

func (f *fixture) adminKeyAlive(id string) bool {
	return slices.ContainsFunc(f.emu.Emulator.AdminAPIKeys(), func(k adminapi.AdminAPIKey) bool { return k.ID == id })
}

func (f *fixture) serviceAccountAlive(project, id string) bool {
	return slices.ContainsFunc(f.emu.Emulator.ServiceAccounts(project), func(sa adminapi.ServiceAccount) bool { return sa.ID == id })
}

const (
	tokenA = "aaaaaaaa-0000-4000-8000-00000000000a"
	tokenB = "bbbbbbbb-0000-4000-8000-00000000000b"
)

// Issue 11, point 1: a pending version naming a credential this rotation
// did not mint (someone else's key, another token's key, the current one)
// fails its test, and abandon deletes nothing: it says which secret and why.
func TestForeignOrStalePendingIsNeverDeleted(t *testing.T) {
	tests := []struct {
		name string
		// stage puts a pending version on the secret and returns the
		// credential it names and a check that it is still alive.
		kind  kind
		stage func(f *fixture, arn string, cur secretdoc.Doc) (alive func() bool)
	}{
		{"admin key: another live admin key", adminKind, func(f *fixture, arn string, cur secretdoc.Doc) func() bool {
			id, _, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "partner integration"})
			if err != nil {
				f.t.Fatal(err)
			}
			f.stagePending(arn, tokenA, secretdoc.Doc{Type: secretdoc.TypeAdminKey, APIKey: deadAdminKey, KeyID: id})
			return func() bool { return f.adminKeyAlive(id) }
		}},
		{"admin key: another live admin key, with its own value", adminKind, func(f *fixture, arn string, cur secretdoc.Doc) func() bool {
			id, _, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "partner integration"})
			if err != nil {
				f.t.Fatal(err)
			}
			// Works, but its key_id names the deployment's other key.
			other, value, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "billing exporter"})
			if err != nil {
				f.t.Fatal(err)
			}
			f.stagePending(arn, tokenA, secretdoc.Doc{Type: secretdoc.TypeAdminKey, APIKey: logging.Secret(value), KeyID: id})
			return func() bool { return f.adminKeyAlive(id) && f.adminKeyAlive(other) }
		}},
		{"admin key: minted by this secret's rotation of another token", adminKind, func(f *fixture, arn string, cur secretdoc.Doc) func() bool {
			id, _, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: rotation.CredentialName("orgwarden-admin", arn, tokenB)})
			if err != nil {
				f.t.Fatal(err)
			}
			f.stagePending(arn, tokenA, secretdoc.Doc{Type: secretdoc.TypeAdminKey, APIKey: deadAdminKey, KeyID: id})
			return func() bool { return f.adminKeyAlive(id) }
		}},
		{"admin key: the current key", adminKind, func(f *fixture, arn string, cur secretdoc.Doc) func() bool {
			f.stagePending(arn, tokenA, secretdoc.Doc{Type: secretdoc.TypeAdminKey, APIKey: deadAdminKey, KeyID: cur.KeyID})
			return func() bool { return f.adminKeyAlive(cur.KeyID) }
		}},
		{"service account: another account of the project", serviceAccountKind, func(f *fixture, arn string, cur secretdoc.Doc) func() bool {
			sa, err := f.emu.Emulator.AddServiceAccount(cur.ProjectID, adminapi.NewServiceAccount{Name: "payments-app"})
			if err != nil {
				f.t.Fatal(err)
			}
			key, _, err := f.emu.Emulator.AddProjectAPIKey(cur.ProjectID, adminapi.NewProjectAPIKey{OwnerServiceAccountID: sa})
			if err != nil {
				f.t.Fatal(err)
			}
			f.stagePending(arn, tokenA, secretdoc.Doc{Type: secretdoc.TypeServiceAccountKey, APIKey: deadProjectKey, KeyID: key,
				ProjectID: cur.ProjectID, ServiceAccountID: sa, ServiceAccountName: "billing-app"})
			return func() bool { return f.serviceAccountAlive(cur.ProjectID, sa) }
		}},
		{"service account: another token's, named for this secret", serviceAccountKind, func(f *fixture, arn string, cur secretdoc.Doc) func() bool {
			sa, err := f.emu.Emulator.AddServiceAccount(cur.ProjectID, adminapi.NewServiceAccount{Name: rotation.CredentialName("billing-app", arn, tokenB)})
			if err != nil {
				f.t.Fatal(err)
			}
			f.stagePending(arn, tokenA, secretdoc.Doc{Type: secretdoc.TypeServiceAccountKey, APIKey: deadProjectKey,
				ProjectID: cur.ProjectID, ServiceAccountID: sa, ServiceAccountName: "billing-app"})
			return func() bool { return f.serviceAccountAlive(cur.ProjectID, sa) }
		}},
		{"service account: an account of another project", serviceAccountKind, func(f *fixture, arn string, cur secretdoc.Doc) func() bool {
			proj, err := f.emu.Emulator.AddProject(adminapi.NewProject{Name: "Payments"})
			if err != nil {
				f.t.Fatal(err)
			}
			sa, err := f.emu.Emulator.AddServiceAccount(proj, adminapi.NewServiceAccount{Name: rotation.CredentialName("billing-app", arn, tokenA)})
			if err != nil {
				f.t.Fatal(err)
			}
			f.stagePending(arn, tokenA, secretdoc.Doc{Type: secretdoc.TypeServiceAccountKey, APIKey: deadProjectKey,
				ProjectID: proj, ServiceAccountID: sa, ServiceAccountName: "billing-app"})
			return func() bool { return f.serviceAccountAlive(proj, sa) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, adminapi.Options{})
			arn := tt.kind.setup(f)
			curVersion, cur := f.version(arn, "AWSCURRENT")
			f.enableRotation(arn)
			alive := tt.stage(f, arn, cur)
			f.emu.Emulator.ResetRequests()

			err := f.step(f.handler(), arn, tokenA, rotation.StepTest)
			if err == nil || !strings.Contains(err.Error(), arn) || !strings.Contains(err.Error(), "nothing deleted") {
				t.Fatalf("want an error naming the secret and deleting nothing, got %v", err)
			}
			if n := len(f.emu.Emulator.MutatingRequests()); n != 0 {
				t.Errorf("%d mutating requests: %+v", n, f.emu.Emulator.MutatingRequests())
			}
			if !alive() {
				t.Error("the credential the pending version names was deleted")
			}
			if v := versionWith(f.describe(arn), "AWSCURRENT"); v != curVersion {
				t.Errorf("AWSCURRENT moved to %s", v)
			}
			if err := f.keyWorks(cur); err != nil {
				t.Errorf("current credential broken: %v", err)
			}
		})
	}
}

// Issue 11, point 2: a current value whose key_id (or service_account_id)
// names another credential than its api_key's is refused at finishSecret:
// no retirement is recorded, so the sweep never deletes the other
// credential; the sweep itself refuses to trust such a managed secret.
func TestUnpairedKeyIDIsNeverRetired(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fixture) (arn string, victimAlive func() bool)
	}{
		{"admin key", func(f *fixture) (string, func() bool) {
			_, value, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "partner integration", LastUsedAt: t0})
			if err != nil {
				f.t.Fatal(err)
			}
			victim, _, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "production", LastUsedAt: t0})
			if err != nil {
				f.t.Fatal(err)
			}
			arn := f.createSecret("partner/admin-key", secretdoc.Doc{Type: secretdoc.TypeAdminKey, APIKey: logging.Secret(value), KeyID: victim})
			return arn, func() bool { return f.adminKeyAlive(victim) }
		}},
		{"service account", func(f *fixture) (string, func() bool) {
			arn := setupServiceAccount(f)
			_, cur := f.version(arn, "AWSCURRENT")
			victim, err := f.emu.Emulator.AddServiceAccount(cur.ProjectID, adminapi.NewServiceAccount{Name: "payments-app"})
			if err != nil {
				f.t.Fatal(err)
			}
			if _, _, err := f.emu.Emulator.AddProjectAPIKey(cur.ProjectID, adminapi.NewProjectAPIKey{OwnerServiceAccountID: victim, LastUsedAt: t0}); err != nil {
				f.t.Fatal(err)
			}
			cur.ServiceAccountID = victim
			value, _ := cur.Marshal()
			if _, err := f.smc.PutSecretValue(f.t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(value)}); err != nil {
				f.t.Fatal(err)
			}
			return arn, func() bool { return f.serviceAccountAlive(cur.ProjectID, victim) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, adminapi.Options{})
			arn, victimAlive := tt.setup(f)
			curVersion, _ := f.version(arn, "AWSCURRENT")
			f.useRotation(f.handler())
			attempt := f.rotate(arn, "")
			if attempt.Err == nil || !strings.Contains(attempt.Err.Error(), "does not belong to its api_key") || !strings.Contains(attempt.Err.Error(), arn) {
				t.Fatalf("want finishSecret refused for an unpaired key_id, got %+v", attempt)
			}
			if got := attempt.Steps[len(attempt.Steps)-1]; got != rotation.StepFinish {
				t.Errorf("refused at %s, want finishSecret", got)
			}
			d := f.describe(arn)
			if rets, _ := secretdoc.Retirements(d.Tags); len(rets) != 0 {
				t.Errorf("retirement recorded: %+v", rets)
			}
			if v := versionWith(d, "AWSCURRENT"); v != curVersion {
				t.Errorf("AWSCURRENT moved to %s", v)
			}

			// The sweep, past any grace period, deletes nothing of it.
			f.emu.Emulator.AdvanceClock(48 * time.Hour)
			f.cfg.ManagedSecrets = []string{arn}
			f.cfg.RevokeAdminKeys, f.cfg.DeleteStaleServiceAccounts = true, true
			sum, err := f.handler().Sweep(t.Context(), false)
			if err == nil || !strings.Contains(err.Error(), arn) {
				t.Errorf("sweep trusted a managed secret whose key_id is not its key's: %v", err)
			}
			if sum.Counts.Revoked != 0 {
				t.Errorf("sweep revoked %d", sum.Counts.Revoked)
			}
			if !victimAlive() {
				t.Fatal("the credential named by the wrong key_id was deleted")
			}
		})
	}
}

// mintedAlive lists the credentials of kind k alive and named by a
// rotation of this secret.
func mintedAlive(f *fixture, k kind, project string) []string {
	var ids []string
	if k.name == adminKind.name {
		for _, key := range f.emu.Emulator.AdminAPIKeys() {
			if strings.Contains(key.Name, ".rot-") {
				ids = append(ids, key.ID)
			}
		}
		return ids
	}
	for _, sa := range f.emu.Emulator.ServiceAccounts(project) {
		if strings.Contains(sa.Name, ".rot-") {
			ids = append(ids, sa.ID)
		}
	}
	return ids
}

// Issue 11, point 3: two overlapping rotations of one secret (a manual
// invoke during a scheduled one, a stale retry) leave AWSCURRENT working,
// and once the grace period is over, one minted credential: the current one.
func TestOverlappingRotations(t *testing.T) {
	type op struct {
		token, step string
		fault       bool // the mint fails (500) before anything is created
		wantErr     bool
	}
	c, s, te, fi := rotation.StepCreate, rotation.StepSet, rotation.StepTest, rotation.StepFinish
	interleavings := []struct {
		name string
		ops  []op
	}{
		{"B's failed create between A's test and finish", []op{
			{tokenA, c, false, false}, {tokenA, s, false, false}, {tokenA, te, false, false},
			{tokenB, c, true, true},
			{tokenA, fi, false, false},
			{tokenB, c, false, false}, {tokenB, s, false, false}, {tokenB, te, false, false}, {tokenB, fi, false, false},
		}},
		{"B takes over A's pending", []op{
			{tokenA, c, false, false}, {tokenA, s, false, false}, {tokenA, te, false, false},
			{tokenB, c, false, false},
			{tokenA, fi, false, true}, // no longer AWSPENDING
			{tokenB, s, false, false}, {tokenB, te, false, false},
			{tokenA, te, false, true}, // a stale retry
			{tokenB, fi, false, false},
			{tokenA, c, false, true},
		}},
		{"B created while A finishes", []op{
			{tokenA, c, false, false}, {tokenA, s, false, false}, {tokenA, te, false, false},
			{tokenB, c, false, false}, {tokenB, s, false, false},
			{tokenA, fi, false, true},
			{tokenB, te, false, false}, {tokenB, fi, false, false},
			{tokenB, fi, false, false},
		}},
	}
	for _, k := range kinds {
		for _, il := range interleavings {
			t.Run(k.name+"/"+il.name, func(t *testing.T) {
				f := newFixture(t, adminapi.Options{})
				arn := k.setup(f)
				_, old := f.version(arn, "AWSCURRENT")
				f.enableRotation(arn)
				for i, o := range il.ops {
					if o.fault {
						f.emu.Emulator.InjectFault(adminapi.Rule{Method: "POST", PathPattern: k.creates, Status: 500})
					}
					err := f.step(f.handler(), arn, o.token, o.step)
					f.emu.Emulator.ClearFaults()
					if (err != nil) != o.wantErr {
						t.Fatalf("op %d %s %s: err %v, want error %v", i, o.token[:1], o.step, err, o.wantErr)
					}
					_, cur := f.version(arn, "AWSCURRENT")
					if werr := f.keyWorks(cur); werr != nil {
						t.Fatalf("after op %d %s %s: AWSCURRENT does not work: %v", i, o.token[:1], o.step, werr)
					}
				}
				_, cur := f.version(arn, "AWSCURRENT")
				f.cfg.ManagedSecrets = []string{arn}
				f.emu.Emulator.AdvanceClock(25 * time.Hour)
				if _, err := f.handler().Sweep(t.Context(), false); err != nil {
					t.Fatal(err)
				}
				if got := mintedAlive(f, k, cur.ProjectID); !slices.Equal(got, []string{cur.CredentialID()}) {
					t.Errorf("minted credentials alive %v, want only the current %s", got, cur.CredentialID())
				}
				if err := f.keyWorks(cur); err != nil {
					t.Error(err)
				}
				if err := f.keyDead(old.APIKey); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// The create's answer is lost and the rotation is started afresh with a
// new token (what an operator or the next schedule does): the key minted
// under the first token, which no version holds and whose token has no
// version, is removed by the new rotation's createSecret.
func TestOrphanOfAnotherTokenWithoutVersionIsRemoved(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := newFixture(t, adminapi.Options{})
			arn := k.setup(f)
			_, old := f.version(arn, "AWSCURRENT")
			before := k.credentials(f, old)
			f.enableRotation(arn)
			f.emu.Emulator.InjectFault(adminapi.Rule{Method: "POST", PathPattern: k.creates, Reset: true, AfterCommit: true})
			if err := f.step(f.handler(), arn, tokenA, rotation.StepCreate); err == nil {
				t.Fatal("createSecret should fail on the lost answer")
			}
			f.useRotation(f.handler())
			if attempt := f.rotate(arn, ""); attempt.Err != nil || attempt.Token == tokenA {
				t.Fatalf("fresh rotation: %+v", attempt)
			}
			_, cur := f.version(arn, "AWSCURRENT")
			if err := f.keyWorks(cur); err != nil {
				t.Fatal(err)
			}
			if got := k.credentials(f, cur); len(got) != len(before)+1 {
				t.Errorf("credentials before %v, after %v: the orphan must be gone, the new one present", before, got)
			}
		})
	}
}

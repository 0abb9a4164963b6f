package adminclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// fixture is a small organization with one of everything to change.
type fixture struct {
	projectID, userID, userEmail, keyID, saID, inviteID, adminKeyID string
}

func newFixture(t *testing.T, emu *adminapi.Emulator) fixture {
	t.Helper()
	var f fixture
	var err error
	must := func(e error) {
		t.Helper()
		if e != nil {
			t.Fatal(e)
		}
	}
	f.projectID, err = emu.AddProject(adminapi.NewProject{Name: "fixture"})
	must(err)
	f.userEmail = "leaver@example.com"
	f.userID, err = emu.AddUser(adminapi.NewUser{Email: f.userEmail, Role: "reader"})
	must(err)
	must(emu.AddProjectUser(f.projectID, f.userID, "member"))
	f.keyID, _, err = emu.AddProjectAPIKey(f.projectID, adminapi.NewProjectAPIKey{Name: "laptop", OwnerUserID: f.userID})
	must(err)
	f.saID, err = emu.AddServiceAccount(f.projectID, adminapi.NewServiceAccount{Name: "ci"})
	must(err)
	f.inviteID, err = emu.AddInvite(adminapi.NewInvite{Email: "pending@example.com"})
	must(err)
	f.adminKeyID, _, err = emu.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "old-admin"})
	must(err)
	return f
}

// changeEverything calls every mutating method of the client once.
func changeEverything(t *testing.T, ctx context.Context, c *adminclient.Client, f fixture, otherUserID string) []error {
	t.Helper()
	var errs []error
	keep := func(_ any, err error) { errs = append(errs, err) }
	keep(c.UpdateUserRole(ctx, f.userID, "reader", "test"))
	keep(c.AddProjectUser(ctx, f.projectID, otherUserID, "member", "test"))
	keep(c.UpdateServiceAccountRole(ctx, f.projectID, f.saID, "owner", "test"))
	keep(c.CreateServiceAccountAPIKey(ctx, f.projectID, f.saID, "second", "test"))
	keep(c.CreateServiceAccount(ctx, f.projectID, "new-sa", "test"))
	keep(c.CreateAdminAPIKey(ctx, "new-admin", "test"))
	keep(c.CreateInvite(ctx, "someone@example.com", "reader", []adminclient.InviteProject{{ID: f.projectID, Role: "member"}}, "test"))
	keep(c.DeleteProjectAPIKey(ctx, f.projectID, f.keyID, "laptop", "test"))
	keep(c.RemoveProjectUser(ctx, f.projectID, f.userID, "test"))
	keep(c.DeleteServiceAccount(ctx, f.projectID, f.saID, "ci", "test"))
	keep(c.DeleteInvite(ctx, f.inviteID, "pending@example.com", "test"))
	keep(c.DeleteAdminAPIKey(ctx, f.adminKeyID, "test"))
	keep(c.DeleteUser(ctx, f.userID, f.userEmail, "test"))
	return errs
}

// clientOperations are the spec operationIds the client calls.
var clientOperations = []string{
	"list-users", "modify-user", "delete-user",
	"list-invites", "inviteUser", "delete-invite",
	"list-projects",
	"list-project-users", "create-project-user", "delete-project-user",
	"list-project-service-accounts", "create-project-service-account", "update-project-service-account",
	"delete-project-service-account", "CreateanAPIkeyforaserviceaccount", // (sic) the spec's operationId
	"list-project-api-keys", "delete-project-api-key",
	"admin-api-keys-list", "admin-api-keys-create", "admin-api-keys-delete",
	"list-audit-logs",
}

func TestEveryChangeAgainstTheSpec(t *testing.T) {
	srv := smallOrg(t)
	emu := srv.Emulator
	f := newFixture(t, emu)
	c, _ := newClient(t, srv, nil)
	ctx := context.Background()
	other := emu.Users()[5].ID

	for i, err := range changeEverything(t, ctx, c, f, other) {
		if err != nil {
			t.Errorf("change %d: %v", i, err)
		}
	}
	for _, ch := range c.Changes() {
		if ch.Outcome != adminclient.Done {
			t.Errorf("%s: outcome %s", ch.Op, ch.Outcome)
		}
	}
	// Deletes are idempotent: a second delete finds nothing and succeeds.
	out, err := c.DeleteUser(ctx, f.userID, f.userEmail, "again")
	if err != nil || out != adminclient.AlreadyDone {
		t.Errorf("second delete = %s, %v", out, err)
	}
	for _, u := range emu.Users() {
		if u.ID == f.userID {
			t.Errorf("user still present")
		}
	}

	// Read paths too, so that coverage spans every operation the client uses.
	iterateAll(t, ctx, c, emu)
	u, err := c.UserByEmail(ctx, emu.Users()[0].Email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ProjectsOfUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if srv.Validator == nil {
		t.Skip("spec absent: the changes ran unvalidated")
	}
	if missing := srv.Validator.Uncovered(clientOperations); len(missing) > 0 {
		t.Errorf("operations the client uses that no request exercised: %v (covered: %v)", missing, srv.Validator.Coverage())
	}
}

func TestDryRunSendsNoMutatingRequest(t *testing.T) {
	srv := smallOrg(t)
	emu := srv.Emulator
	f := newFixture(t, emu)
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.DryRun = true })
	before := len(emu.Users())

	errs := changeEverything(t, context.Background(), c, f, emu.Users()[5].ID)
	for i, err := range errs {
		// Creates cannot return a result they never got.
		if err != nil && !adminclient.IsDryRun(err) {
			t.Errorf("change %d: %v", i, err)
		}
	}
	if got := emu.MutatingRequests(); len(got) != 0 {
		t.Fatalf("dry run sent %d mutating requests: %+v", len(got), got)
	}
	changes := c.Changes()
	if len(changes) != len(errs) {
		t.Errorf("recorded %d changes, want %d", len(changes), len(errs))
	}
	for _, ch := range changes {
		if ch.Outcome != adminclient.Planned || ch.Reason == "" {
			t.Errorf("%+v: want a planned change with its reason", ch)
		}
	}
	if len(emu.Users()) != before || c.Stats().Mutations != 0 {
		t.Errorf("dry run changed the organization")
	}
}

func TestCreatesAreNeverRetried(t *testing.T) {
	srv := smallOrg(t)
	emu := srv.Emulator
	f := newFixture(t, emu)
	c, _ := newClient(t, srv, nil)
	ctx := context.Background()

	tests := []struct {
		name, method, pattern string
		create                func() error
	}{
		{"admin key", "POST", "/organization/admin_api_keys", func() error {
			_, err := c.CreateAdminAPIKey(ctx, "k", "test")
			return err
		}},
		{"service account", "POST", "/organization/projects/*/service_accounts", func() error {
			_, err := c.CreateServiceAccount(ctx, f.projectID, "sa", "test")
			return err
		}},
		{"service account key", "POST", "/organization/projects/*/service_accounts/*/api_keys", func() error {
			_, err := c.CreateServiceAccountAPIKey(ctx, f.projectID, f.saID, "k", "test")
			return err
		}},
		{"invite", "POST", "/organization/invites", func() error {
			_, err := c.CreateInvite(ctx, "x@example.com", "reader", nil, "test")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu.ResetRequests()
			// The server applies the create, then the response is lost.
			emu.InjectFault(adminapi.Rule{Method: tt.method, PathPattern: tt.pattern, Status: 503, AfterCommit: true})
			err := tt.create()
			if err == nil || !adminclient.IsTransient(err) {
				t.Fatalf("want a transient error, got %v", err)
			}
			if n := emu.CountRequests(tt.method, tt.pattern); n != 1 {
				t.Errorf("create sent %d times, want exactly once", n)
			}
		})
	}
}

func TestRefusesToDeleteItsOwnKey(t *testing.T) {
	srv := smallOrg(t)
	c, _ := newClient(t, srv, nil)
	ctx := context.Background()
	var self string
	for k, err := range c.AdminAPIKeys(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if c.IsSelf(k) {
			self = k.ID
		}
	}
	if self == "" {
		t.Fatal("the client did not recognise its own key by its redacted value")
	}
	byID, err := c.WithAdminKey(logging.Secret(srv.AdminKey), self)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := byID.DeleteAdminAPIKey(ctx, self, "test"); !errors.Is(err, adminclient.ErrSelfKey) {
		t.Fatalf("deleting own key: %v", err)
	}
	if n := len(srv.Emulator.MutatingRequests()); n != 0 {
		t.Errorf("%d mutating requests sent", n)
	}
}

// No admin key, and no key the emulator ever issued, appears in the
// client's logs or errors, including failures.
func TestKeyMaterialNeverInLogsOrErrors(t *testing.T) {
	srv := smallOrg(t)
	emu := srv.Emulator
	f := newFixture(t, emu)
	// One retry keeps the injected server errors quick to exhaust.
	c, logs := newClient(t, srv, func(o *adminclient.Options) { o.MaxRetries = 1 })
	ctx := context.Background()

	var errs []error
	res, err := c.CreateAdminAPIKey(ctx, "fresh", "test")
	if err != nil {
		t.Fatal(err)
	}
	errs = append(errs, changeEverything(t, ctx, c, f, emu.Users()[5].ID)...)
	emu.InjectFault(adminapi.Rule{Method: "DELETE", Status: 500, Count: 2})
	_, err = c.DeleteInvite(ctx, "invite-nope", "x@example.com", "test")
	errs = append(errs, err)

	// A client with a wrong key fails with 401; its error must not echo the key.
	bad, _ := newClient(t, srv, func(o *adminclient.Options) { o.AdminKey = logging.Secret(res.Value + "x") })
	_, err = adminclient.Collect(bad.Users(ctx))
	if err == nil {
		t.Fatal("want 401 for an unknown key")
	}
	errs = append(errs, err)

	secrets := append(emu.IssuedSecrets(), srv.AdminKey, res.Value, res.Value+"x")
	var text strings.Builder
	text.WriteString(logs.String())
	for _, e := range errs {
		if e != nil {
			text.WriteString(e.Error())
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text.String(), s) {
			t.Fatalf("key material found in logs or errors (a %d-character key)", len(s))
		}
	}
	if !strings.Contains(logs.String(), `"op":"delete_invite"`) || !strings.Contains(logs.String(), `"reason":"test"`) {
		t.Errorf("changes were not logged as structured lines")
	}
}

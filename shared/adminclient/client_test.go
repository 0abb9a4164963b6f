package adminclient_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/logtest"
)

func newClient(t *testing.T, srv *adminapitest.Server, mod func(*adminclient.Options)) (*adminclient.Client, *logtest.Buffer) {
	t.Helper()
	logs := &logtest.Buffer{}
	opts := adminclient.Options{
		BaseURL:       srv.URL,
		AdminKey:      logging.Secret(srv.AdminKey),
		MaxRetryDelay: 5 * time.Second,
		Logger:        logging.New(logs, slog.LevelDebug),
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := adminclient.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

func smallOrg(t *testing.T, options ...adminapitest.Option) *adminapitest.Server {
	seed := adminapi.SmallSeed(7)
	return adminapitest.New(t, adminapi.Options{Seed: &seed}, options...)
}

func ids[T any](t *testing.T, items []T, id func(T) string) []string {
	t.Helper()
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	sort.Strings(out)
	for i := 1; i < len(out); i++ {
		if out[i] == out[i-1] {
			t.Errorf("duplicate id %s", out[i])
		}
	}
	return out
}

func equalSets(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: got %d ids, want %d\ngot  %v\nwant %v", what, len(got), len(want), got, want)
	}
}

// iterateAll lists every resource family of the organization and compares
// the result with the emulator's store.
func iterateAll(t *testing.T, ctx context.Context, c *adminclient.Client, emu *adminapi.Emulator) {
	t.Helper()
	users, err := adminclient.Collect(c.Users(ctx))
	if err != nil {
		t.Fatal(err)
	}
	equalSets(t, "users", ids(t, users, func(u openai.OrganizationUser) string { return u.ID }),
		ids(t, emu.Users(), func(u adminapi.User) string { return u.ID }))

	invites, err := adminclient.Collect(c.Invites(ctx))
	if err != nil {
		t.Fatal(err)
	}
	equalSets(t, "invites", ids(t, invites, func(i openai.Invite) string { return i.ID }),
		ids(t, emu.Invites(), func(i adminapi.Invite) string { return i.ID }))

	projects, err := adminclient.Collect(c.Projects(ctx, true))
	if err != nil {
		t.Fatal(err)
	}
	equalSets(t, "projects", ids(t, projects, func(p openai.Project) string { return p.ID }),
		ids(t, emu.Projects(), func(p adminapi.Project) string { return p.ID }))

	for _, p := range projects {
		keys, err := adminclient.Collect(c.ProjectAPIKeys(ctx, p.ID))
		if err != nil {
			t.Fatal(err)
		}
		equalSets(t, "keys of "+p.ID, ids(t, keys, func(k openai.ProjectAPIKey) string { return k.ID }),
			ids(t, emu.ProjectAPIKeys(p.ID), func(k adminapi.ProjectAPIKey) string { return k.ID }))
		if p.Status == "archived" {
			// Archived projects have no members or service accounts; the
			// emulator answers 400 as for any change to them.
			continue
		}
		members, err := adminclient.Collect(c.ProjectUsers(ctx, p.ID))
		if err != nil {
			t.Fatal(err)
		}
		equalSets(t, "members of "+p.ID, ids(t, members, func(u openai.ProjectUser) string { return u.ID }),
			ids(t, emu.ProjectUsers(p.ID), func(u adminapi.ProjectUser) string { return u.UserID }))
		sas, err := adminclient.Collect(c.ServiceAccounts(ctx, p.ID))
		if err != nil {
			t.Fatal(err)
		}
		equalSets(t, "service accounts of "+p.ID, ids(t, sas, func(s openai.ProjectServiceAccount) string { return s.ID }),
			ids(t, emu.ServiceAccounts(p.ID), func(s adminapi.ServiceAccount) string { return s.ID }))
	}

	admin, err := adminclient.Collect(c.AdminAPIKeys(ctx))
	if err != nil {
		t.Fatal(err)
	}
	equalSets(t, "admin keys", ids(t, admin, func(k openai.AdminAPIKey) string { return k.ID }),
		ids(t, emu.AdminAPIKeys(), func(k adminapi.AdminAPIKey) string { return k.ID }))

	// Tenant-scoped events are listed only with tenant_only=true; the two
	// listings together are the whole log.
	var got []string
	for _, tenant := range []bool{false, true} {
		events, err := adminclient.Collect(c.AuditLogs(ctx, adminclient.AuditFilter{TenantOnly: tenant}))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			got = append(got, e.ID)
		}
	}
	sort.Strings(got)
	want := append([]string(nil), emu.AuditEventIDs()...)
	sort.Strings(want)
	equalSets(t, "audit log", got, want)
}

func TestIterateEveryResourceExactly(t *testing.T) {
	srv := smallOrg(t)
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.PageSize = 7 }) // many pages
	iterateAll(t, context.Background(), c, srv.Emulator)
}

// The client survives 10% 429s and 5% 5xx across a full iteration of a
// seeded organization without losing or repeating an item.
func TestIterationSurvivesFaults(t *testing.T) {
	srv := smallOrg(t)
	if err := srv.Emulator.SetFaults(adminapi.Faults{
		RateLimited: 0.10, ServerError: 0.03, Unavailable: 0.02,
		RetryAfter: 5 * time.Millisecond, Seed: 42,
	}); err != nil {
		t.Fatal(err)
	}
	// A short cap on backoff keeps the 5xx retries (which carry no Retry-After) quick.
	c, _ := newClient(t, srv, func(o *adminclient.Options) {
		o.PageSize = 10
		o.MaxRetries = 10
		o.MaxRetryDelay = 50 * time.Millisecond
	})
	iterateAll(t, context.Background(), c, srv.Emulator)

	faulted := 0
	for _, r := range srv.Emulator.Requests() {
		if r.Fault != "" {
			faulted++
		}
	}
	st := c.Stats()
	if faulted == 0 || st.Attempts <= st.Requests {
		t.Fatalf("the faults were not exercised: %d faulted, stats %+v", faulted, st)
	}
	if got := st.Attempts - st.Requests; got != int64(faulted) {
		t.Errorf("retries %d != faulted requests %d", got, faulted)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	srv := smallOrg(t)
	wait := 1200 * time.Millisecond
	srv.Emulator.InjectFault(adminapi.Rule{Method: "GET", PathPattern: "/organization/users", Status: 429, RetryAfter: wait})
	c, _ := newClient(t, srv, nil)
	start := time.Now()
	if _, err := c.UserByEmail(context.Background(), srv.Emulator.Users()[0].Email); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < wait {
		t.Errorf("retried after %v, before the %v the server asked for", elapsed, wait)
	}
	var statuses []int
	for _, r := range srv.Emulator.Requests() {
		statuses = append(statuses, r.Status)
	}
	if len(statuses) < 2 || statuses[0] != 429 || statuses[1] != 200 {
		t.Errorf("want a 429 then a 200, got %v", statuses)
	}
}

func TestRateLimiterSpacesRequests(t *testing.T) {
	srv := smallOrg(t)
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.RateLimit = 50; o.Burst = 1; o.PageSize = 2 })
	if _, err := adminclient.Collect(c.Users(context.Background())); err != nil {
		t.Fatal(err)
	}
	n := len(srv.Emulator.Requests())
	if n < 10 {
		t.Fatalf("only %d requests", n)
	}
	// The limiter's lower bound: n requests at 50/s with burst 1 need (n-1)/50 s.
	first, last := srv.Emulator.Requests()[0].Time, srv.Emulator.Requests()[n-1].Time
	if min := time.Duration(n-1) * 20 * time.Millisecond * 9 / 10; last.Sub(first) < min {
		t.Errorf("%d requests in %v, want at least %v at 50 rps", n, last.Sub(first), min)
	}
}

func TestLookups(t *testing.T) {
	srv := smallOrg(t)
	emu := srv.Emulator
	c, _ := newClient(t, srv, nil)
	ctx := context.Background()

	want := emu.Users()[3]
	got, err := c.UserByEmail(ctx, strings.ToUpper(want.Email))
	if err != nil || got.ID != want.ID {
		t.Fatalf("UserByEmail(upper) = %s, %v; want %s", got.ID, err, want.ID)
	}
	if _, err := c.UserByEmail(ctx, "nobody@nowhere.example"); !errors.Is(err, adminclient.ErrNotFound) {
		t.Errorf("unknown email: %v", err)
	}

	projectID, err := emu.AddProject(adminapi.NewProject{Name: "lookups"})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.AddProjectUser(projectID, want.ID, "owner"); err != nil {
		t.Fatal(err)
	}
	keyID, _, err := emu.AddProjectAPIKey(projectID, adminapi.NewProjectAPIKey{Name: "mine", OwnerUserID: want.ID})
	if err != nil {
		t.Fatal(err)
	}
	// The user object's project list is a snapshot: look the user up again.
	got, err = c.UserByEmail(ctx, want.Email)
	if err != nil {
		t.Fatal(err)
	}
	memberships, err := c.ProjectsOfUser(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range memberships {
		found = found || (m.ProjectID == projectID && m.Role == "owner")
	}
	if !found {
		t.Errorf("ProjectsOfUser misses %s: %+v", projectID, memberships)
	}
	keys, err := c.KeysOwnedBy(ctx, projectID, want.ID)
	if err != nil || len(keys) != 1 || keys[0].ID != keyID {
		t.Errorf("KeysOwnedBy = %v, %v", keys, err)
	}

	inviteID, err := emu.AddInvite(adminapi.NewInvite{Email: "New.Hire@Example.com"})
	if err != nil {
		t.Fatal(err)
	}
	invites, err := c.InvitesByEmail(ctx, "new.hire@example.com")
	if err != nil || len(invites) != 1 || invites[0].ID != inviteID {
		t.Errorf("InvitesByEmail = %v, %v", invites, err)
	}
}

func TestProjectsOfUserWithAndWithoutTheUsersProjectList(t *testing.T) {
	for _, omit := range []bool{false, true} {
		seed := adminapi.SmallSeed(7)
		srv := adminapitest.New(t, adminapi.Options{Seed: &seed, OmitUserProjects: omit})
		emu := srv.Emulator
		c, _ := newClient(t, srv, nil)
		ctx := context.Background()
		uid, err := emu.AddUser(adminapi.NewUser{Email: "both@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for i, p := range emu.Projects() {
			if p.Status == "archived" || i%2 == 0 {
				continue
			}
			if err := emu.AddProjectUser(p.ID, uid, "owner"); err != nil {
				t.Fatal(err)
			}
			want[p.ID] = "owner"
		}
		u, err := c.UserByEmail(ctx, "both@example.com")
		if err != nil {
			t.Fatal(err)
		}
		emu.ResetRequests()
		ms, err := c.ProjectsOfUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, m := range ms {
			got[m.ProjectID] = m.Role
		}
		if len(want) == 0 || !maps.Equal(got, want) {
			t.Errorf("omit=%v: memberships %v, want %v", omit, got, want)
		}
		calls := len(emu.Requests())
		switch {
		case !omit && calls != 0:
			t.Errorf("with the user's project list, ProjectsOfUser made %d calls, want 0", calls)
		case omit && calls < len(emu.Projects())-1:
			t.Errorf("without it, ProjectsOfUser made %d calls; it should list every active project's members", calls)
		}
	}
}

package adminclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// listCase is one list of the client, drained to a count.
type listCase struct {
	name, path string
	// itemCursor: the list pages after its last item (admin keys), so a
	// page without last_id is still complete.
	itemCursor bool
	drain      func(context.Context, *adminclient.Client) (int, error)
	want       func(*adminapi.Emulator) int
}

func count[T any](seq func(yield func(T, error) bool)) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// listCases are every list of the client, each over an organization part
// that takes several pages of 2.
func listCases(t *testing.T, srv *adminapitest.Server) []listCase {
	t.Helper()
	emu := srv.Emulator
	// The newest ten or so audit events: a few pages, not 1,500.
	c, _ := newClient(t, srv, nil)
	head, err := c.AuditLogPage(context.Background(), adminclient.AuditFilter{Limit: 10})
	if err != nil || len(head.Events) < 10 {
		t.Fatalf("audit head: %d events, %v", len(head.Events), err)
	}
	recent := adminclient.AuditFilter{EffectiveAtGTE: head.Events[9].EffectiveAt}
	recentN, err := count(c.AuditLogs(context.Background(), recent))
	if err != nil {
		t.Fatal(err)
	}
	// The project with the most keys (several pages), and one with several members.
	var keysProj, usersProj, saProj string
	for _, p := range emu.Projects() {
		if p.Status != "active" {
			continue
		}
		if keysProj == "" || len(emu.ProjectAPIKeys(p.ID)) > len(emu.ProjectAPIKeys(keysProj)) {
			keysProj = p.ID
		}
		if usersProj == "" || len(emu.ProjectUsers(p.ID)) > len(emu.ProjectUsers(usersProj)) {
			usersProj = p.ID
		}
		if saProj == "" || len(emu.ServiceAccounts(p.ID)) > len(emu.ServiceAccounts(saProj)) {
			saProj = p.ID
		}
	}
	// Top up the lists the seed keeps short.
	for i := len(emu.ServiceAccounts(saProj)); i < 5; i++ {
		if _, err := emu.AddServiceAccount(saProj, adminapi.NewServiceAccount{Name: fmt.Sprintf("paging-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := len(emu.AdminAPIKeys()); i < 5; i++ {
		if _, _, err := emu.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: fmt.Sprintf("paging-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{len(emu.ProjectAPIKeys(keysProj)), len(emu.ProjectUsers(usersProj)), len(emu.ServiceAccounts(saProj)), len(emu.AdminAPIKeys())} {
		if n < 5 {
			t.Fatalf("the seed is too small for paging tests: a list of %d", n)
		}
	}
	return []listCase{
		{"users", "/organization/users", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) { return count(c.Users(ctx)) },
			func(e *adminapi.Emulator) int { return len(e.Users()) }},
		{"invites", "/organization/invites", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) { return count(c.Invites(ctx)) },
			func(e *adminapi.Emulator) int { return len(e.Invites()) }},
		{"projects", "/organization/projects", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) { return count(c.Projects(ctx, true)) },
			func(e *adminapi.Emulator) int { return len(e.Projects()) }},
		{"project users", "/organization/projects/*/users", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) {
				return count(c.ProjectUsers(ctx, usersProj))
			},
			func(e *adminapi.Emulator) int { return len(e.ProjectUsers(usersProj)) }},
		{"service accounts", "/organization/projects/*/service_accounts", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) {
				return count(c.ServiceAccounts(ctx, saProj))
			},
			func(e *adminapi.Emulator) int { return len(e.ServiceAccounts(saProj)) }},
		{"project keys", "/organization/projects/*/api_keys", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) {
				return count(c.ProjectAPIKeys(ctx, keysProj))
			},
			func(e *adminapi.Emulator) int { return len(e.ProjectAPIKeys(keysProj)) }},
		{"audit logs", "/organization/audit_logs", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) {
				return count(c.AuditLogs(ctx, recent))
			},
			func(*adminapi.Emulator) int { return recentN }},
		{"audit logs (SDK)", "/organization/audit_logs", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) {
				return count(c.SDKAuditLogs(ctx, recent))
			},
			func(*adminapi.Emulator) int { return recentN }},
		{"admin keys", "/organization/admin_api_keys", true,
			func(ctx context.Context, c *adminclient.Client) (int, error) { return count(c.AdminAPIKeys(ctx)) },
			func(e *adminapi.Emulator) int { return len(e.AdminAPIKeys()) }},
		// The record lists page through the same loop with their own envelope parsing.
		{"user records", "/organization/users", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) { return count(c.UserRecords(ctx)) },
			func(e *adminapi.Emulator) int { return len(e.Users()) }},
		{"project key records", "/organization/projects/*/api_keys", false,
			func(ctx context.Context, c *adminclient.Client) (int, error) {
				return count(c.ProjectAPIKeyRecords(ctx, keysProj))
			},
			func(e *adminapi.Emulator) int { return len(e.ProjectAPIKeys(keysProj)) }},
		{"admin key records", "/organization/admin_api_keys", true,
			func(ctx context.Context, c *adminclient.Client) (int, error) { return count(c.AdminAPIKeyRecords(ctx)) },
			func(e *adminapi.Emulator) int { return len(e.AdminAPIKeys()) }},
	}
}

// A page that says more follow but names no cursor, or a cursor already
// followed, is an incomplete answer: every list fails with a transient
// ErrIncompleteList instead of ending quietly with what it has read. A
// cursor that never ends stops at the page ceiling.
func TestListsNeverEndOnABrokenCursor(t *testing.T) {
	type outcome int
	const (
		complete outcome = iota
		incomplete
		ceiling
	)
	modes := []struct {
		name string
		// fault is injected; Skip 1: the first page is fine.
		fault adminapi.PageFault
		want  outcome
		// wantItemCursor, when set, overrides want for admin keys.
		wantItemCursor *outcome
	}{
		{"page 2 says has_more without last_id", adminapi.PageFault{Mode: adminapi.PageNoCursor, Skip: 1}, incomplete, ptr(complete)},
		{"first page says has_more without last_id", adminapi.PageFault{Mode: adminapi.PageNoCursor}, incomplete, ptr(complete)},
		{"page 2 repeats page 1", adminapi.PageFault{Mode: adminapi.PageRepeat, Skip: 1}, incomplete, nil},
		{"page 3 repeats page 2", adminapi.PageFault{Mode: adminapi.PageRepeat, Skip: 2}, incomplete, nil},
		{"one inconsistent page, read again", adminapi.PageFault{Mode: adminapi.PageNoCursor, Skip: 1, Count: 1}, complete, nil},
		// Empty pages with a fresh cursor each time: admin keys page after
		// their last item, so an empty page with has_more is incomplete there.
		{"a cursor that never ends", adminapi.PageFault{Mode: adminapi.PageEndless}, ceiling, ptr(incomplete)},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := smallOrg(t)
			for _, lc := range listCases(t, srv) {
				t.Run(lc.name, func(t *testing.T) {
					srv.Emulator.ClearFaults()
					c, _ := newClient(t, srv, func(o *adminclient.Options) { o.PageSize = 2; o.MaxPages = 20 })
					want := m.want
					if lc.itemCursor && m.wantItemCursor != nil {
						want = *m.wantItemCursor
					}
					f := m.fault
					f.PathPattern = lc.path
					if err := srv.Emulator.InjectPageFault(f); err != nil {
						t.Fatal(err)
					}
					before := len(srv.Emulator.Requests())
					n, err := lc.drain(context.Background(), c)
					reads := len(srv.Emulator.Requests()) - before
					switch want {
					case complete:
						if err != nil {
							t.Fatalf("err = %v", err)
						}
						if n != lc.want(srv.Emulator) {
							t.Errorf("listed %d, the organization has %d", n, lc.want(srv.Emulator))
						}
					case incomplete:
						if !errors.Is(err, adminclient.ErrIncompleteList) || !adminclient.IsTransient(err) {
							t.Fatalf("want a transient ErrIncompleteList, got %v (after %d items)", err, n)
						}
					case ceiling:
						if !errors.Is(err, adminclient.ErrPageCeiling) || !strings.Contains(err.Error(), "20 pages") {
							t.Fatalf("want ErrPageCeiling naming the ceiling, got %v", err)
						}
						if reads != 20 {
							t.Errorf("%d pages read, want exactly the ceiling (20)", reads)
						}
					}
				})
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// The default ceiling is generous (a million-event backfill is a tenth of
// it at 100 a page) and an Options value replaces it.
func TestPageCeilingDefault(t *testing.T) {
	if adminclient.DefaultMaxPages < 100_000 {
		t.Errorf("DefaultMaxPages = %d", adminclient.DefaultMaxPages)
	}
	srv := adminapitest.New(t, adminapi.Options{})
	if err := srv.Emulator.InjectPageFault(adminapi.PageFault{PathPattern: "/organization/users", Mode: adminapi.PageEndless}); err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.MaxPages = 3 })
	if _, err := adminclient.Collect(c.Users(context.Background())); !errors.Is(err, adminclient.ErrPageCeiling) || adminclient.IsTransient(err) {
		t.Errorf("want a permanent ErrPageCeiling, got %v", err)
	}
}

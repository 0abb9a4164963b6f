package adminclient_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// A client whose key was revoked asks Refresh once, however many requests
// failed at the same time, retries each once with the new key (a POST with
// its body), and protects the new key from deletion. A client made for a
// key under test never swaps it.
func TestRefreshOn401(t *testing.T) {
	srv := smallOrg(t)
	newID, newKey, err := srv.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "after rotation"})
	if err != nil {
		t.Fatal(err)
	}
	revoked := logging.Secret("sk-admin-" + strings.Repeat("r", 48))
	var refreshes atomic.Int32
	c, _ := newClient(t, srv, func(o *adminclient.Options) {
		o.AdminKey, o.SelfKeyID = revoked, "key_revoked"
		o.Refresh = func(context.Context) (logging.Secret, string, error) {
			refreshes.Add(1)
			return logging.Secret(newKey), newID, nil
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = adminclient.Collect(c.Users(t.Context())) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("after refresh: %v", err)
		}
	}
	if n := refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	if _, err := c.CreateInvite(t.Context(), "new@example.com", "reader", nil, "test"); err != nil {
		t.Errorf("POST with the refreshed key: %v", err)
	}
	if _, err := c.DeleteAdminAPIKey(t.Context(), newID, "test"); err != adminclient.ErrSelfKey {
		t.Errorf("deleting the refreshed key: %v, want ErrSelfKey", err)
	}

	under, err := c.WithAdminKey(revoked, "key_revoked")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adminclient.Collect(under.AdminAPIKeys(t.Context())); adminclient.StatusCode(err) != 401 {
		t.Errorf("a key under test answered %v, want its own 401", err)
	}
	if n := refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes: a key under test was swapped", n)
	}
}

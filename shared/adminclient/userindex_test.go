package adminclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

func TestUserIndexListsOnceAndRereadsHits(t *testing.T) {
	ctx := context.Background()
	srv := adminapitest.New(t, adminapi.Options{})
	for i := range 250 {
		if _, err := srv.Emulator.AddUser(adminapi.NewUser{Email: fmt.Sprintf("u%03d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	alice, err := srv.Emulator.AddUser(adminapi.NewUser{Email: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.MaxRetries = -1 })
	x := c.NewUserIndex()
	listings := func() int {
		n := 0
		for _, r := range srv.Emulator.Requests() {
			if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/organization/users") && !strings.Contains(r.Query, "emails") &&
				!strings.Contains(r.Query, "after") {
				n++
			}
		}
		return n
	}

	// A failed listing is not kept: the next lookup lists again.
	srv.Emulator.InjectFault(adminapi.Rule{Method: http.MethodGet, PathPattern: "/organization/users", Status: http.StatusForbidden, Count: 2})
	if _, err := x.UserByEmail(ctx, "ghost0@example.com"); err == nil || errors.Is(err, adminclient.ErrNotFound) {
		t.Fatalf("lookup during a failing listing: %v, want the API's error", err)
	}
	srv.Emulator.ClearFaults()
	srv.Emulator.ResetRequests()
	for i := range 5 {
		if _, err := x.UserByEmail(ctx, fmt.Sprintf("ghost%d@example.com", i)); !errors.Is(err, adminclient.ErrNotFound) {
			t.Fatalf("ghost%d: %v", i, err)
		}
	}
	if n := listings(); n != 1 {
		t.Errorf("%d listings for 5 unknown emails, want 1", n)
	}

	// The index knows alice; once she is removed, it must not return her.
	if _, err := c.DeleteUser(ctx, alice, "alice@example.com", "test"); err != nil {
		t.Fatal(err)
	}
	if u, err := x.UserByEmail(ctx, "ALICE@example.com"); !errors.Is(err, adminclient.ErrNotFound) {
		t.Errorf("removed user found through the index: %s, %v", u.ID, err)
	}
	if u, err := x.UserByEmail(ctx, "U007@example.com"); err != nil || u.Email != "u007@example.com" {
		t.Errorf("known user: %+v, %v", u.ID, err)
	}
}

package adminclient_test

import (
	"context"
	"iter"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/shared/adminclient"
)

// TestListsAreLazyAndReusable: building a list sends nothing (a caller may
// build one and never range over it), and each range over the same value
// reads the whole list afresh, so a list can be ranged twice.
func TestListsAreLazyAndReusable(t *testing.T) {
	srv := smallOrg(t)
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.PageSize = 7 })
	ctx := context.Background()
	count := func(seq iter.Seq2[openai.OrganizationUser, error]) int {
		t.Helper()
		n := 0
		for _, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}

	srv.Emulator.ResetRequests()
	users := c.Users(ctx)
	if n := len(srv.Emulator.Requests()); n != 0 {
		t.Fatalf("building the list sent %d requests before the first range", n)
	}
	first := count(users)
	pages := len(srv.Emulator.Requests())
	if first < 8 || pages < 2 {
		t.Fatalf("the seed should span several pages: %d users in %d requests", first, pages)
	}
	if second := count(users); second != first {
		t.Errorf("second range over the same list: %d users, first %d", second, first)
	}
	if n := len(srv.Emulator.Requests()); n != 2*pages {
		t.Errorf("second range sent %d requests, want %d (the list read afresh)", n-pages, pages)
	}
}

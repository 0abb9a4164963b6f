package adminclient_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

func TestRefusedKeyErrorCarriesServerMessageOnce(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{})
	key := "sk-admin-" + strings.Repeat("q", 40) // planted: the emulator does not know it
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.AdminKey = logging.Secret(key) })
	_, err := adminclient.Collect(c.Invites(t.Context()))
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	if strings.Count(msg, "list invites") != 1 || !strings.Contains(msg, "HTTP 401 Unauthorized: ") ||
		!strings.Contains(msg, "the admin key was refused") || strings.Contains(msg, "qqqqqqqq") {
		t.Errorf("error %q: want the operation once, the server's message, the fix, no key", msg)
	}
	if adminclient.StatusCode(err) != 401 {
		t.Errorf("status %d", adminclient.StatusCode(err))
	}
}

func TestOnRetryHearsEveryRetry(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{})
	var mu sync.Mutex
	var notices []adminclient.RetryNotice
	c, _ := newClient(t, srv, func(o *adminclient.Options) {
		o.MaxRetries = 3
		o.OnRetry = func(n adminclient.RetryNotice) { mu.Lock(); notices = append(notices, n); mu.Unlock() }
	})
	srv.Emulator.InjectFault(adminapi.Rule{Method: "GET", PathPattern: "/organization/users", Status: 429, RetryAfter: 2 * time.Millisecond, Count: 2})
	if _, err := adminclient.Collect(c.Users(t.Context())); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 2 {
		t.Fatalf("%d notices, want 2: %+v", len(notices), notices)
	}
	for i, n := range notices {
		if n.Status != 429 || n.Method != "GET" || n.Path != "/organization/users" || n.Retry != i+1 || n.MaxRetries != 3 {
			t.Errorf("notice %d: %+v", i, n)
		}
	}
	if got := notices[1].String(); got != "waiting 0s: 429 Too Many Requests on GET /organization/users, retry 2/3" {
		t.Errorf("String() = %q", got)
	}
}

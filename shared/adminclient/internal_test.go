package adminclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

func TestRedactedMatches(t *testing.T) {
	key := "sk-admin-" + strings.Repeat("m", 40) + "xyz"
	tests := []struct {
		redacted string
		want     bool
	}{
		{"sk-admin...xyz", true},
		{"sk-admin...abc", false},
		{"sk-proj...xyz", false},
		{"sk-adminxyz", false},
		{"...xyz", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := redactedMatches(tt.redacted, key); got != tt.want {
			t.Errorf("redactedMatches(%q) = %v, want %v", tt.redacted, got, tt.want)
		}
	}
}

func TestParseAuditPageKeepsRawBytes(t *testing.T) {
	ev1 := `{"id":"audit_log-2","type":"brand.new.type","effective_at":20,"zz_unknown":{"nested":[1,2.50,"x"]}}`
	ev2 := `{ "type":"project.archived" , "id":"audit_log-1","effective_at":10,"project.archived":{"id":"proj_1"}}`
	body := `{"object":"list","data":[` + ev1 + `,` + ev2 + `],"first_id":"audit_log-2","last_id":"audit_log-1","has_more":true}`
	page, known, err := parseAuditPage([]byte(body))
	if err != nil || !known {
		t.Fatal(err)
	}
	if !page.HasMore || page.FirstID != "audit_log-2" || page.LastID != "audit_log-1" || len(page.Events) != 2 {
		t.Fatalf("page = %+v", page)
	}
	if string(page.Events[0].Raw) != ev1 || string(page.Events[1].Raw) != ev2 {
		t.Errorf("raw bytes changed:\n%s\n%s", page.Events[0].Raw, page.Events[1].Raw)
	}
	if page.Events[1].Type != "project.archived" || page.Events[1].EffectiveAt != 10 {
		t.Errorf("head fields = %+v", page.Events[1])
	}
}

func TestParseAuditPageErrors(t *testing.T) {
	for _, body := range []string{`not json`, `{"data":[{"type":"x"}]}`, `{"data":[1]}`} {
		if _, _, err := parseAuditPage([]byte(body)); err == nil {
			t.Errorf("parseAuditPage(%s) should fail", body)
		}
	}
	// A missing last_id is not guessed from the last event: paginate
	// decides what a page without a cursor means.
	page, known, err := parseAuditPage([]byte(`{"data":[{"id":"a","effective_at":1}],"has_more":true}`))
	if err != nil || page.LastID != "" || !known || !page.HasMore {
		t.Errorf("page without last_id: %+v known=%v %v", page, known, err)
	}
	if _, known, _ := parseAuditPage([]byte(`{"data":[]}`)); known {
		t.Error("a page without has_more must not count as saying it")
	}
}

func TestForEachBoundsConcurrencyAndJoinsErrors(t *testing.T) {
	var running, peak atomic.Int32
	items := make([]int, 50)
	for i := range items {
		items[i] = i
	}
	err := forEach(context.Background(), 4, items, func(_ context.Context, i int) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer running.Add(-1)
		if i%10 == 0 {
			return fmt.Errorf("item %d failed", i)
		}
		return nil
	})
	if peak.Load() > 4 {
		t.Errorf("peak concurrency %d > 4", peak.Load())
	}
	if err == nil || strings.Count(err.Error(), "failed") != 5 {
		t.Errorf("want all 5 errors joined, got %v", err)
	}
}

func TestForEachStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	err := forEach(ctx, 1, make([]int, 100), func(context.Context, int) error {
		if calls.Add(1) == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls.Load() >= 100 {
		t.Errorf("err = %v after %d calls", err, calls.Load())
	}
}

func TestWrapRedactsAndClassifies(t *testing.T) {
	key := "sk-admin-" + strings.Repeat("s", 30)
	err := wrap("delete user", fmt.Errorf("Post \"http://x\": read: connection reset by peer (%s)", key))
	if strings.Contains(err.Error(), key) {
		t.Fatal("wrapped error contains key material")
	}
	if !strings.HasPrefix(err.Error(), "delete user: ") {
		t.Errorf("no context: %v", err)
	}
	if !IsTransient(err) {
		t.Errorf("a reset connection is transient: %v", err)
	}
	if IsTransient(wrap("x", errors.New("bad input"))) {
		t.Errorf("a plain error is not transient")
	}
}

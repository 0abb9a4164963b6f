package adminclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

func usageOrg(t *testing.T) *adminapitest.Server {
	seed := adminapi.SmallSeed(7)
	now := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	return adminapitest.New(t, adminapi.Options{Seed: &seed, Clock: func() time.Time { return now }})
}

// TestUsageBuckets reads every usage endpoint and costs, grouped as an
// inventory groups them, over 40 days: daily buckets from the start's day
// to today, in the fewest calls (31 buckets a page; costs 180), and the
// same buckets, byte for byte, when paged 4 at a time.
func TestUsageBuckets(t *testing.T) {
	srv := usageOrg(t)
	emu := srv.Emulator
	c, _ := newClient(t, srv, nil)
	ctx := context.Background()
	now := emu.Now().Unix()
	start := now - 40*86400
	first := start - start%86400
	wantBuckets := int((now-first)/86400) + 1
	for _, ep := range adminclient.UsageEndpoints {
		t.Run(ep.Table(), func(t *testing.T) {
			q := adminclient.UsageQuery{StartTime: start, GroupBy: ep.InventoryGroupBy()}
			emu.ResetRequests()
			var buckets []adminclient.UsageBucket
			for b, err := range c.UsageBuckets(ctx, ep, q) {
				if err != nil {
					t.Fatal(err)
				}
				buckets = append(buckets, b)
			}
			wantCalls := (wantBuckets + 30) / 31
			if ep == adminclient.Costs {
				wantCalls = 1
			}
			if n := len(emu.Requests()); n != wantCalls {
				t.Errorf("%d calls, want %d", n, wantCalls)
			}
			if len(buckets) != wantBuckets {
				t.Fatalf("%d buckets, want %d", len(buckets), wantBuckets)
			}
			results := 0
			for i, b := range buckets {
				if b.StartTime != first+int64(i)*86400 || b.EndTime != b.StartTime+86400 {
					t.Fatalf("bucket %d: %d..%d", i, b.StartTime, b.EndTime)
				}
				var whole struct {
					Results []json.RawMessage `json:"results"`
				}
				if err := json.Unmarshal(b.Raw, &whole); err != nil || len(whole.Results) != len(b.Results) {
					t.Fatalf("bucket %d raw %s: %v", i, b.Raw, err)
				}
				for j, r := range b.Results {
					if string(r) != string(whole.Results[j]) {
						t.Fatalf("result %d of bucket %d is not the bucket's bytes", j, i)
					}
					var g map[string]any
					_ = json.Unmarshal(r, &g)
					for _, dim := range ep.InventoryGroupBy() {
						if _, ok := g[dim]; !ok {
							t.Fatalf("result lacks %s: %s", dim, r)
						}
					}
					if g["project_id"] == nil {
						t.Fatalf("grouped by project, result without one: %s", r)
					}
				}
				results += len(b.Results)
			}
			if results == 0 {
				t.Error("40 days without usage")
			}
			q.Limit = 4
			var small []adminclient.UsageBucket
			pages := 0
			for p, err := range c.UsagePages(ctx, ep, q) {
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(p.Buckets) > 4 || (p.HasMore && p.NextPage == "") {
					t.Fatalf("page %d: %d buckets, next %q", pages, len(p.Buckets), p.NextPage)
				}
				small = append(small, p.Buckets...)
			}
			if pages != (wantBuckets+3)/4 || len(small) != len(buckets) {
				t.Fatalf("%d pages of 4, %d buckets", pages, len(small))
			}
			for i := range small {
				if string(small[i].Raw) != string(buckets[i].Raw) {
					t.Fatalf("bucket %d differs between page sizes", i)
				}
			}
		})
	}
}

func TestUsageFiltersAndWidths(t *testing.T) {
	srv := usageOrg(t)
	c, _ := newClient(t, srv, nil)
	ctx := context.Background()
	now := srv.Emulator.Now().Unix()
	proj := srv.Emulator.Projects()[1].ID
	hour := now - now%3600
	hours, err := adminclient.Collect(c.UsageBuckets(ctx, adminclient.UsageCompletions, adminclient.UsageQuery{
		StartTime: hour - 3*86400, EndTime: hour, BucketWidth: "1h", GroupBy: []string{"model"}, ProjectIDs: []string{proj}}))
	if err != nil || len(hours) != 72 {
		t.Fatalf("hourly buckets: %d, %v", len(hours), err)
	}
	for _, b := range hours {
		for _, r := range b.Results {
			if !strings.Contains(string(r), `"project_id":null`) || strings.Contains(string(r), `"model":null`) {
				t.Fatalf("grouped by model only: %s", r)
			}
		}
	}
	if _, err := adminclient.Collect(c.UsageBuckets(ctx, adminclient.Costs, adminclient.UsageQuery{})); err == nil {
		t.Error("a query without a start time was sent")
	}
	_, err = adminclient.Collect(c.UsageBuckets(ctx, adminclient.Costs, adminclient.UsageQuery{StartTime: now - 86400, BucketWidth: "1h"}))
	if adminclient.StatusCode(err) != 400 {
		t.Errorf("hourly costs: %v", err)
	}
}

// A page that says more follow without next_page is incomplete.
func TestUsagePagesNeverEndOnABrokenCursor(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"page","data":[{"object":"bucket","start_time":0,"end_time":86400,"results":[]}],"has_more":true,"next_page":null}`)
	}))
	defer fake.Close()
	c, err := adminclient.New(adminclient.Options{BaseURL: fake.URL + "/v1", AdminKey: logging.Secret("sk-admin-" + strings.Repeat("f", 40)), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adminclient.Collect(c.UsageBuckets(context.Background(), adminclient.Costs, adminclient.UsageQuery{StartTime: 1})); !errors.Is(err, adminclient.ErrIncompleteList) {
		t.Fatalf("want ErrIncompleteList, got %v", err)
	}
}

package adminapi_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

func usageBuckets(t *testing.T, srv *adminapitest.Server, path string) []json.RawMessage {
	t.Helper()
	status, _, b := raw(t, srv, "GET", path, srv.AdminKey, "")
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &page); err != nil || status != 200 {
		t.Fatalf("%s: %d %s", path, status, b)
	}
	return page.Data
}

// Usage is a function of the seed and the bucket: the same seed gives the
// same buckets; a finished bucket never changes as the clock moves on (an
// incremental reader can trust yesterday), while the bucket holding now
// grows until it ends; another seed gives other numbers.
func TestUsageIsDeterministicAndStable(t *testing.T) {
	clock := func() time.Time { return fixedNow }
	newSrv := func(value uint64) *adminapitest.Server {
		seed := adminapi.SmallSeed(value)
		return adminapitest.New(t, adminapi.Options{Seed: &seed, Clock: clock})
	}
	a, b, other := newSrv(1), newSrv(1), newSrv(2)
	today := fixedNow.Unix() - fixedNow.Unix()%86400
	for _, ep := range []string{"usage/completions?group_by=project_id&group_by=model&", "usage/embeddings?", "costs?group_by=line_item&"} {
		path := fmt.Sprintf("/organization/%sstart_time=%d&limit=8", ep, today-7*86400)
		first := usageBuckets(t, a, path)
		if len(first) != 8 {
			t.Fatalf("%s: %d buckets", ep, len(first))
		}
		if again := usageBuckets(t, b, path); fmt.Sprint(again) != fmt.Sprint(first) {
			t.Errorf("%s: the same seed gave other usage", ep)
		}
		if o := usageBuckets(t, other, path); fmt.Sprint(o[:7]) == fmt.Sprint(first[:7]) {
			t.Errorf("%s: another seed gave the same usage", ep)
		}
		a.Emulator.AdvanceClock(3 * time.Hour)
		later := usageBuckets(t, a, path)
		a.Emulator.AdvanceClock(-3 * time.Hour)
		if fmt.Sprint(later[:7]) != fmt.Sprint(first[:7]) {
			t.Errorf("%s: finished buckets changed as the clock moved", ep)
		}
		if string(later[7]) == string(first[7]) {
			t.Errorf("%s: today's bucket did not grow in 3 hours", ep)
		}
	}
}

// Usage follows the keys: a key never used has none, and many keys have some.
func TestUsageFollowsKeys(t *testing.T) {
	srv := smallServer(t)
	emu := srv.Emulator
	start := fixedNow.Unix() - 30*86400
	var never []string
	for _, p := range emu.Projects() {
		for _, k := range emu.ProjectAPIKeys(p.ID) {
			if k.LastUsedAt.IsZero() {
				never = append(never, k.ID)
			}
		}
	}
	if len(never) == 0 {
		t.Fatal("the seed has no unused key")
	}
	q := fmt.Sprintf("/organization/usage/completions?start_time=%d&limit=31&group_by=api_key_id", start)
	used := map[string]bool{}
	for _, b := range usageBuckets(t, srv, q) {
		var bucket struct {
			Results []struct {
				APIKeyID *string `json:"api_key_id"`
			} `json:"results"`
		}
		if err := json.Unmarshal(b, &bucket); err != nil {
			t.Fatal(err)
		}
		for _, r := range bucket.Results {
			used[*r.APIKeyID] = true
		}
	}
	for _, k := range never {
		if used[k] {
			t.Errorf("key %s was never used but has usage", k)
		}
	}
	if len(used) < 5 {
		t.Errorf("only %d keys have usage in 30 days", len(used))
	}
}

package adminapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"testing"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// BenchmarkSeedLarge builds the benchmark organization (10,000 users, 500
// projects, 20 keys each, 1,000,000 audit events) and reports the heap it
// keeps.
func BenchmarkSeedLarge(b *testing.B) {
	seed := adminapi.LargeSeed(1)
	var keep *adminapi.Emulator
	var before, after runtime.MemStats
	for b.Loop() {
		keep = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		emu, err := adminapi.New(adminapi.Options{Seed: &seed, Clock: fixedClock})
		if err != nil {
			b.Fatal(err)
		}
		keep = emu
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-retained")
	b.ReportMetric(float64(keep.AuditEventCount()), "events")
}

// BenchmarkAuditPage serves one audit-log page from the large organization,
// in process (no network), for the access patterns the exporter uses.
func BenchmarkAuditPage(b *testing.B) {
	seed := adminapi.LargeSeed(1)
	emu, err := adminapi.New(adminapi.Options{Seed: &seed, Clock: fixedClock})
	if err != nil {
		b.Fatal(err)
	}
	key := emu.AdminKey()
	all := emu.AuditEventIDs()
	mid := all[len(all)/2]
	deep := all[len(all)-200]
	week := fixedNow.AddDate(0, 0, -7).Unix()
	users := emu.Users()
	cases := []struct {
		name  string
		query url.Values
	}{
		{"first page", url.Values{"limit": {"100"}}},
		{"middle of a million", url.Values{"limit": {"100"}, "after": {mid}}},
		{"near the end", url.Values{"limit": {"100"}, "after": {deep}}},
		{"before, middle", url.Values{"limit": {"100"}, "before": {mid}}},
		{"one day window", url.Values{"limit": {"100"}, "effective_at[gte]": {fmt.Sprint(week)}, "effective_at[lt]": {fmt.Sprint(week + 86400)}}},
		{"rare event type", url.Values{"limit": {"100"}, "event_types[]": {"project.archived"}, "after": {mid}}},
		{"one actor", url.Values{"limit": {"100"}, "actor_ids[]": {users[42].ID}}},
		{"one actor email and type", url.Values{"limit": {"100"}, "actor_emails[]": {users[7].Email}, "event_types[]": {"login.succeeded"}}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			target := "/v1/organization/audit_logs?" + tc.query.Encode()
			for b.Loop() {
				req := httptest.NewRequest("GET", target, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				rec := httptest.NewRecorder()
				emu.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
				}
			}
		})
	}
}

package layout

import (
	"testing"
	"time"
)

func TestKeys(t *testing.T) {
	at := time.Date(2025, 3, 9, 23, 59, 59, 0, time.UTC).Unix()
	tests := []struct {
		name, prefix, got, want string
	}{
		{"data", "openai-audit-logs", mustNew(t, "openai-audit-logs", "org-1").DataKey(at, 12, 3, 1),
			"openai-audit-logs/org_id=org-1/year=2025/month=03/day=09/g0000000012-s000003-0001.jsonl.gz"},
		{"data without prefix", "", mustNew(t, "", "org-1").DataKey(at, 1, 0, 0),
			"org_id=org-1/year=2025/month=03/day=09/g0000000001-s000000-0000.jsonl.gz"},
		{"next second is the next day", "p", mustNew(t, "p", "o").DayPrefix(at + 1),
			"p/org_id=o/year=2025/month=03/day=10/"},
		{"digest", "a/b", mustNew(t, "/a/b/", "o").DigestKey(7), "a/b/_digests/org_id=o/g0000000007.json"},
		{"state", "a", mustNew(t, "a", "o").StateKey(), "a/_state/org_id=o/checkpoint.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestParseDataKeyRoundTrip(t *testing.T) {
	l := mustNew(t, "x", "org-A")
	at := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC).Unix()
	key := l.DataKey(at, 123, 45, 6)
	n, ok := l.ParseDataKey(key)
	if !ok {
		t.Fatalf("ParseDataKey(%q) failed", key)
	}
	want := DataName{Day: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), Generation: 123, Slice: 45, Seq: 6}
	if n != want {
		t.Fatalf("got %+v, want %+v", n, want)
	}
}

func TestParseDataKeyRejects(t *testing.T) {
	l := mustNew(t, "x", "o")
	for _, key := range []string{
		"x/org_id=o/year=2025/month=02/day=30/g0000000001-s000001-0001.jsonl.gz", // no such day
		"x/org_id=o/year=2025/month=13/day=01/g0000000001-s000001-0001.jsonl.gz", // no such month
		"x/org_id=o/year=2025/month=01/day=01/g0000000001-s000001-0001.jsonl",    // not gzip
		"x/org_id=o/year=2025/month=01/day=01/extra/g0000000001-s000001-0001.jsonl.gz",
		"x/org_id=o/year=2025/month=01/day=01/evil.jsonl.gz",
		"x/org_id=other/year=2025/month=01/day=01/g0000000001-s000001-0001.jsonl.gz",
		"x/_digests/org_id=o/g0000000001.json",
	} {
		if n, ok := l.ParseDataKey(key); ok {
			t.Errorf("ParseDataKey(%q) = %+v, want rejection", key, n)
		}
	}
}

func TestParseDigestKey(t *testing.T) {
	l := mustNew(t, "x", "o")
	if gen, ok := l.ParseDigestKey(l.DigestKey(42)); !ok || gen != 42 {
		t.Fatalf("ParseDigestKey = %d, %v", gen, ok)
	}
	for _, key := range []string{"x/_digests/org_id=o/g0000000000.json", "x/_digests/org_id=o/g42.json", "x/_digests/org_id=o/g0000000001.json.bak"} {
		if _, ok := l.ParseDigestKey(key); ok {
			t.Errorf("ParseDigestKey(%q) accepted", key)
		}
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		prefix, org string
		ok          bool
	}{
		{"openai-audit-logs", "org-abc_1", true},
		{"", "org", true},
		{"a/../b", "org", false},
		{"a//b", "org", false},
		{"_hidden", "org", false},
		{"year=2025", "org", false},
		{"ok", "", false},
		{"ok", "org/x", false},
		{"ok", "org=1", false},
	}
	for _, tt := range tests {
		_, err := New(tt.prefix, tt.org)
		if (err == nil) != tt.ok {
			t.Errorf("New(%q, %q) error = %v, want ok=%v", tt.prefix, tt.org, err, tt.ok)
		}
	}
}

func TestDays(t *testing.T) {
	d := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC).Unix()
	if !SameDay(d, d+86399) || SameDay(d-1, d) {
		t.Fatal("SameDay wrong at the day boundary")
	}
	if DayStart(d+5000) != d || DayStart(-1) != -86400 {
		t.Fatalf("DayStart wrong: %d %d", DayStart(d+5000), DayStart(-1))
	}
}

func mustNew(t *testing.T, prefix, org string) Layout {
	t.Helper()
	l, err := New(prefix, org)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

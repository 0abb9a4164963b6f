package eventbridge_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	eblocal "github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge/eventbridgetest"
)

func TestPutEvents(t *testing.T) {
	received := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	srv := eventbridgetest.New(t, eblocal.WithClock(func() time.Time { return received }))
	c := srv.Client()
	eventTime := time.Date(2026, 2, 3, 4, 0, 0, 500_000_000, time.UTC)

	out, err := c.PutEvents(t.Context(), &awseb.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("orgwarden.keyrotation"), DetailType: aws.String("Run Summary"), Detail: aws.String(`{"revoked":2}`), EventBusName: aws.String("orgwarden"), Time: aws.Time(eventTime)},
		{Source: aws.String("orgwarden.auditexport"), DetailType: aws.String("Run Summary"), Detail: aws.String(`{"events":10}`),
			EventBusName: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/orgwarden"), Resources: []string{"arn:aws:s3:::audit"}},
		{Source: aws.String("orgwarden.offboarding"), DetailType: aws.String("Run Summary"), Detail: aws.String(`{"people":1}`)},
		{Source: aws.String("orgwarden.bad"), DetailType: aws.String("Run Summary"), Detail: aws.String(`not json`)},
		{Source: aws.String("orgwarden.bad"), Detail: aws.String(`{}`)},
		{Source: aws.String("aws.s3"), DetailType: aws.String("x"), Detail: aws.String(`{}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 3 || len(out.Entries) != 6 {
		t.Fatalf("FailedEntryCount %d, %d entries", out.FailedEntryCount, len(out.Entries))
	}
	wantCodes := []string{"", "", "", "MalformedDetail", "InvalidArgument", "NotAuthorizedForSourceException"}
	for i, e := range out.Entries {
		if aws.ToString(e.ErrorCode) != wantCodes[i] || (wantCodes[i] == "") != (aws.ToString(e.EventId) != "") {
			t.Errorf("entry %d: id %q code %q, want code %q", i, aws.ToString(e.EventId), aws.ToString(e.ErrorCode), wantCodes[i])
		}
	}

	events := srv.Events()
	if len(events) != 3 {
		t.Fatalf("recorded %d events", len(events))
	}
	tests := []struct {
		source, bus string
		time        time.Time
		detail      string
	}{
		{"orgwarden.keyrotation", "orgwarden", eventTime, `{"revoked":2}`},
		{"orgwarden.auditexport", "orgwarden", received, `{"events":10}`},
		{"orgwarden.offboarding", "default", received, `{"people":1}`},
	}
	for i, tt := range tests {
		e := events[i]
		if e.Source != tt.source || e.EventBusName != tt.bus || !e.Time.Equal(tt.time) || e.DetailType != "Run Summary" || e.ID != aws.ToString(out.Entries[i].EventId) {
			t.Errorf("event %d: %+v", i, e)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, e.Detail); err != nil || compact.String() != tt.detail {
			t.Errorf("event %d detail %s, want %s", i, e.Detail, tt.detail)
		}
	}
	if len(events[1].Resources) != 1 {
		t.Errorf("resources %v", events[1].Resources)
	}
}

func TestPutEventsRequestLimits(t *testing.T) {
	c := eventbridgetest.New(t).Client()
	entry := types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String(`{}`)}
	tests := []struct {
		name    string
		entries []types.PutEventsRequestEntry
	}{
		{"eleven entries", func() []types.PutEventsRequestEntry {
			var e []types.PutEventsRequestEntry
			for range 11 {
				e = append(e, entry)
			}
			return e
		}()},
		{"over 256 KiB", []types.PutEventsRequestEntry{{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String(`{"x":"` + strings.Repeat("a", 256*1024) + `"}`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutEvents(t.Context(), &awseb.PutEventsInput{Entries: tt.entries})
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
				t.Errorf("got %v, want ValidationException", err)
			}
		})
	}
}

// TestPutEventsSizeLimit checks the emulator sizes entries as EventBridge
// documents (Time 14 bytes; Source, DetailType, Detail and Resources in
// UTF-8 bytes; summed over the request) and refuses a request above
// 256 KiB whole, recording none of its entries.
func TestPutEventsSizeLimit(t *testing.T) {
	const limit = 256 * 1024
	// detail returns a JSON object of exactly n bytes made of r (1 to 4
	// UTF-8 bytes), padded with ASCII.
	detail := func(n int, r string) string {
		body := n - len(`{"x":""}`)
		s := strings.Repeat(r, body/len(r))
		return `{"x":"` + s + strings.Repeat("a", body-len(s)) + `"}`
	}
	entry := func(detailBytes int, r string) types.PutEventsRequestEntry {
		return types.PutEventsRequestEntry{Source: aws.String("src"), DetailType: aws.String("dt"), Detail: aws.String(detail(detailBytes, r))}
	}
	withTime := func(e types.PutEventsRequestEntry) types.PutEventsRequestEntry {
		e.Time = aws.Time(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		return e
	}
	withResources := func(e types.PutEventsRequestEntry, rs ...string) types.PutEventsRequestEntry {
		e.Resources = rs
		return e
	}
	const fixed = len("src") + len("dt")
	tests := []struct {
		name    string
		entries []types.PutEventsRequestEntry
		ok      bool
	}{
		{"exactly the limit", []types.PutEventsRequestEntry{entry(limit-fixed, "a")}, true},
		{"one byte over", []types.PutEventsRequestEntry{entry(limit-fixed+1, "a")}, false},
		{"Time counts 14 bytes", []types.PutEventsRequestEntry{withTime(entry(limit-fixed-13, "a"))}, false},
		{"Time within the limit", []types.PutEventsRequestEntry{withTime(entry(limit-fixed-14, "a"))}, true},
		{"UTF-8 bytes, not characters", []types.PutEventsRequestEntry{entry(limit-fixed+1, "é")}, false},
		{"four-byte runes within the limit", []types.PutEventsRequestEntry{entry(limit-fixed, "😀")}, true},
		{"Resources count", []types.PutEventsRequestEntry{withResources(entry(limit-fixed-10, "a"), "arn:aws:s3", ":::b")}, false},
		{"summed over the request", []types.PutEventsRequestEntry{entry(limit/2, "a"), entry(limit/2, "a")}, false},
		{"ten small entries", slices.Repeat([]types.PutEventsRequestEntry{entry(100, "a")}, 10), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := eventbridgetest.New(t)
			out, err := srv.Client().PutEvents(t.Context(), &awseb.PutEventsInput{Entries: tt.entries})
			if tt.ok {
				if err != nil || out.FailedEntryCount != 0 || len(srv.Events()) != len(tt.entries) {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
				t.Fatalf("got %v, want ValidationException", err)
			}
			if n := len(srv.Events()); n != 0 {
				t.Errorf("a refused request recorded %d events", n)
			}
		})
	}
}

// TestPutEventsEntryErrors checks the per-entry error codes EventBridge
// returns in a partly failed request, each at its entry's position.
func TestPutEventsEntryErrors(t *testing.T) {
	ok := types.PutEventsRequestEntry{Source: aws.String("orgwarden"), DetailType: aws.String("d"), Detail: aws.String(`{"a":1}`)}
	with := func(f func(*types.PutEventsRequestEntry)) types.PutEventsRequestEntry {
		e := ok
		f(&e)
		return e
	}
	tests := []struct {
		name  string
		entry types.PutEventsRequestEntry
		code  string
	}{
		{"valid", ok, ""},
		{"no source", with(func(e *types.PutEventsRequestEntry) { e.Source = nil }), "InvalidArgument"},
		{"no detail-type", with(func(e *types.PutEventsRequestEntry) { e.DetailType = aws.String("") }), "InvalidArgument"},
		{"no detail", with(func(e *types.PutEventsRequestEntry) { e.Detail = nil }), "InvalidArgument"},
		{"detail not JSON", with(func(e *types.PutEventsRequestEntry) { e.Detail = aws.String(`{"a":`) }), "MalformedDetail"},
		{"detail a JSON array", with(func(e *types.PutEventsRequestEntry) { e.Detail = aws.String(`[1]`) }), "MalformedDetail"},
		{"detail JSON null", with(func(e *types.PutEventsRequestEntry) { e.Detail = aws.String(`null`) }), "MalformedDetail"},
		{"detail a JSON string", with(func(e *types.PutEventsRequestEntry) { e.Detail = aws.String(`"x"`) }), "MalformedDetail"},
		{"AWS source", with(func(e *types.PutEventsRequestEntry) { e.Source = aws.String("aws.events") }), "NotAuthorizedForSourceException"},
	}
	srv := eventbridgetest.New(t)
	entries := make([]types.PutEventsRequestEntry, 0, len(tests))
	for _, tt := range tests {
		entries = append(entries, ok, tt.entry) // a valid entry before each: positions must hold
	}
	for start := 0; start < len(entries); start += 10 {
		batch := entries[start:min(start+10, len(entries))]
		out, err := srv.Client().PutEvents(t.Context(), &awseb.PutEventsInput{Entries: batch})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Entries) != len(batch) {
			t.Fatalf("%d result entries for %d", len(out.Entries), len(batch))
		}
		failed := 0
		for i, r := range out.Entries {
			want := ""
			name := "valid"
			if (start+i)%2 == 1 {
				tt := tests[(start+i)/2]
				want, name = tt.code, tt.name
			}
			if want != "" {
				failed++
			}
			if aws.ToString(r.ErrorCode) != want || (want == "") == (r.EventId == nil) || (want != "") == (r.ErrorMessage == nil) {
				t.Errorf("%s: code %q id %v, want code %q", name, aws.ToString(r.ErrorCode), r.EventId, want)
			}
		}
		if int(out.FailedEntryCount) != failed {
			t.Errorf("FailedEntryCount %d, want %d", out.FailedEntryCount, failed)
		}
	}
}

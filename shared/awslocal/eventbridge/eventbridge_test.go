package eventbridge_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	eblocal "github.com/orgwarden/orgwarden/shared/awslocal/eventbridge"
)

func TestPutEvents(t *testing.T) {
	received := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	srv := eblocal.New(t, eblocal.WithClock(func() time.Time { return received }))
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
	c := eblocal.New(t).Client()
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

package summary_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/summary"
	"github.com/orgwarden/orgwarden/testenv/logtest"
	"github.com/orgwarden/orgwarden/testenv/summarytest"
)

type fakeBus struct {
	mu      sync.Mutex
	entries []types.PutEventsRequestEntry
	fail    string // entry error code to answer with
}

func (b *fakeBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != "" {
		return &eventbridge.PutEventsOutput{FailedEntryCount: 1, Entries: []types.PutEventsResultEntry{{ErrorCode: aws.String(b.fail), ErrorMessage: aws.String("no")}}}, nil
	}
	b.entries = append(b.entries, in.Entries...)
	return &eventbridge.PutEventsOutput{Entries: []types.PutEventsResultEntry{{EventId: aws.String("1")}}}, nil
}

func (b *fakeBus) detail(t *testing.T) []byte {
	t.Helper()
	if len(b.entries) != 1 {
		t.Fatalf("%d events sent", len(b.entries))
	}
	return []byte(aws.ToString(b.entries[0].Detail))
}

type fakeBucket struct {
	objects map[string][]byte
	err     error
}

func (b *fakeBucket) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if b.err != nil {
		return nil, b.err
	}
	body, _ := io.ReadAll(in.Body)
	if b.objects == nil {
		b.objects = map[string][]byte{}
	}
	b.objects["s3://"+aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = body
	return &s3.PutObjectOutput{}, nil
}

type item struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason"`
}

type testSummary struct {
	Kind    string   `json:"kind"`
	Count   int      `json:"count"`
	Done    []item   `json:"done"`
	Nested  nested   `json:"nested"`
	Errors  []string `json:"errors,omitempty"`
	Comment string   `json:"comment,omitempty"`
}

type nested struct {
	Skipped []item `json:"skipped"`
}

func items(n int, reason string) []item {
	out := make([]item, n)
	for i := range out {
		out[i] = item{ID: fmt.Sprintf("key_%05d", i), Name: fmt.Sprintf("name-%d", i), Reason: reason}
	}
	return out
}

func newPublisher(bus *fakeBus, bucket *fakeBucket, out io.Writer) *summary.Publisher {
	p := &summary.Publisher{Function: "keyrotation", Organization: "org-test", Bus: "b", Events: bus, Log: logging.New(out, slog.LevelInfo),
		Now: func() time.Time { return time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC) }}
	if bucket != nil {
		p.ReportBucket, p.ReportPrefix, p.Reports = "state", "reports", bucket
	}
	return p
}

func TestPublishBoundsTheSummary(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6,000 bytes of two-byte runes
	tests := []struct {
		name      string
		s         testSummary
		maxItems  int
		truncated bool
		leftOut   map[string]int
		check     func(t *testing.T, got testSummary)
	}{
		{"small summary published whole", testSummary{Kind: "k", Count: 3, Done: items(3, "stale")}, 25, false, nil,
			func(t *testing.T, got testSummary) {
				if len(got.Done) != 3 || got.Count != 3 {
					t.Errorf("got %+v", got)
				}
			}},
		{"lists cut to their first items", testSummary{Kind: "k", Count: 1000, Done: items(1000, "stale"), Nested: nested{Skipped: items(30, "protected")}, Errors: []string{"a", "b"}}, 25, true,
			map[string]int{"done": 975, "nested.skipped": 5},
			func(t *testing.T, got testSummary) {
				if len(got.Done) != 25 || got.Done[0].ID != "key_00000" || got.Done[24].ID != "key_00024" || len(got.Nested.Skipped) != 25 || len(got.Errors) != 2 || got.Count != 1000 {
					t.Errorf("got %d done, %d skipped, %v", len(got.Done), len(got.Nested.Skipped), got.Errors)
				}
			}},
		{"fewer items when large items would not fit", testSummary{Kind: "k", Done: items(200, strings.Repeat("x", 1000))}, 200, true,
			map[string]int{"done": 200 - 50},
			func(t *testing.T, got testSummary) {
				if len(got.Done) != 50 {
					t.Errorf("%d items kept, want 50 (200 halved until 64 KiB fit)", len(got.Done))
				}
			}},
		{"long strings cut on a rune boundary", testSummary{Kind: "k", Comment: long}, 25, true, nil,
			func(t *testing.T, got testSummary) {
				if len(got.Comment) > 1100 || !strings.Contains(got.Comment, "more bytes)") || !strings.HasPrefix(long, strings.Split(got.Comment, "…")[0]) {
					t.Errorf("comment of %d bytes: %.60q", len(got.Comment), got.Comment)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus, out := &fakeBus{}, &logtest.Buffer{}
			p := newPublisher(bus, nil, out)
			p.MaxItems = tt.maxItems
			if err := p.Publish(t.Context(), tt.s, summary.Status{}); err != nil {
				t.Fatal(err)
			}
			detail := bus.detail(t)
			if len(detail) > summary.DefaultMaxDetailBytes {
				t.Errorf("detail of %d bytes", len(detail))
			}
			meta, err := summarytest.ParseMeta(detail)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, n := range tt.leftOut {
				total += n
			}
			if meta.Truncated != tt.truncated || meta.LeftOut != total || len(meta.LeftOutByList) != len(tt.leftOut) {
				t.Errorf("meta %+v, want truncated %v, left out %v", meta, tt.truncated, tt.leftOut)
			}
			for k, n := range tt.leftOut {
				if meta.LeftOutByList[k] != n {
					t.Errorf("left out of %s: %d, want %d", k, meta.LeftOutByList[k], n)
				}
			}
			if meta.Alerts == nil || len(meta.Alerts) != 0 || meta.Report != nil {
				t.Errorf("alerts %#v, report %+v", meta.Alerts, meta.Report)
			}
			var got testSummary
			if err := json.Unmarshal(detail, &got); err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)

			// The log line holds the same summary.
			lines := out.Lines()
			if len(lines) != 1 || !strings.Contains(lines[0], `"message":"summary"`) || !strings.Contains(lines[0], string(detail[:40])) {
				t.Errorf("log lines %d: %.200s", len(lines), lines)
			}
		})
	}
}

func TestPublishWithoutLists(t *testing.T) {
	// A summary too large even with its lists empty (a huge object) keeps
	// its plain fields and orgwarden's, and still fits.
	huge := map[string]string{}
	for i := range 5000 {
		huge[fmt.Sprintf("field-%d", i)] = strings.Repeat("v", 40)
	}
	s := struct {
		Kind  string            `json:"kind"`
		RunID string            `json:"run_id"`
		Huge  map[string]string `json:"huge"`
	}{"k", "run-1", huge}
	bus := &fakeBus{}
	if err := newPublisher(bus, nil, io.Discard).Publish(t.Context(), s, summary.Status{Failed: true}); err != nil {
		t.Fatal(err)
	}
	detail := bus.detail(t)
	var got map[string]any
	if err := json.Unmarshal(detail, &got); err != nil {
		t.Fatal(err)
	}
	if len(detail) > summary.DefaultMaxDetailBytes || got["run_id"] != "run-1" || got["huge"] != nil || got["truncated"] != true || got["failed"] != true ||
		fmt.Sprint(got["fields_left_out"]) != "[huge]" {
		t.Errorf("published %.300s", detail)
	}
}

func TestPublishStatus(t *testing.T) {
	tests := []struct {
		st   summary.Status
		want string
	}{
		{summary.Status{}, `"changed":false,"failed":false,"cap_exceeded":false,"alerts":[]`},
		{summary.Status{Changed: true}, `"changed":true,"failed":false,"cap_exceeded":false,"alerts":["changed"]`},
		{summary.Status{Failed: true, CapExceeded: true}, `"changed":false,"failed":true,"cap_exceeded":true,"alerts":["failed","cap_exceeded"]`},
	}
	for _, tt := range tests {
		bus := &fakeBus{}
		// A summary's own field named like one of orgwarden's is replaced.
		s := map[string]any{"kind": "k", "failed": "not a bool"}
		if err := newPublisher(bus, nil, io.Discard).Publish(t.Context(), s, tt.st); err != nil {
			t.Fatal(err)
		}
		if d := string(bus.detail(t)); !strings.HasPrefix(d, `{"function":"keyrotation","organization":"org-test",`+tt.want+`,"kind":"k","truncated":false,"left_out":0}`) {
			t.Errorf("detail %s, want it to start with %s", d, tt.want)
		}
	}
}

func TestPublishWritesTheFullReport(t *testing.T) {
	bus, bucket := &fakeBus{}, &fakeBucket{}
	ctx := logging.WithRunID(t.Context(), "run-42")
	s := testSummary{Kind: "k", Count: 100, Done: items(100, "stale"), Nested: nested{Skipped: items(2, "protected")}, Errors: []string{"list project p: 500"}}
	s.Done[0].Name = "=HYPERLINK(\"http://evil\")"
	s.Done[1].Name = "sk-proj-" + strings.Repeat("a", 40) // key material pasted into a name
	if err := newPublisher(bus, bucket, io.Discard).Publish(ctx, s, summary.Status{Changed: true}); err != nil {
		t.Fatal(err)
	}
	meta, err := summarytest.ParseMeta(bus.detail(t))
	if err != nil {
		t.Fatal(err)
	}
	if meta.Report == nil || !strings.HasPrefix(meta.Report.JSON, "s3://state/reports/keyrotation/2026/12/04/run-42-") || !strings.HasSuffix(meta.Report.JSON, ".json") ||
		strings.TrimSuffix(meta.Report.CSV, ".csv") != strings.TrimSuffix(meta.Report.JSON, ".json") {
		t.Fatalf("report %+v", meta.Report)
	}
	if len(bucket.objects) != 2 {
		t.Fatalf("%d objects written", len(bucket.objects))
	}
	var full testSummary
	if err := json.Unmarshal(bucket.objects[meta.Report.JSON], &full); err != nil || len(full.Done) != 100 || len(full.Nested.Skipped) != 2 || full.Count != 100 {
		t.Fatalf("JSON report: %v, %d done", err, len(full.Done))
	}
	for _, obj := range bucket.objects {
		if bytes.Contains(obj, []byte(strings.Repeat("a", 40))) {
			t.Error("report holds key material")
		}
	}
	rows, err := summarytest.CSVRows(bucket.objects[meta.Report.CSV])
	if err != nil {
		t.Fatal(err)
	}
	by := summarytest.CountBy(rows, "")
	if by["done"] != 100 || by["nested.skipped"] != 2 || by["errors"] != 1 || len(rows) != 103 {
		t.Errorf("CSV rows by list %v", by)
	}
	if rows[0]["name"] != `'=HYPERLINK("http://evil")` || rows[0]["id"] != "key_00000" || rows[0]["reason"] != "stale" {
		t.Errorf("first row %v: a formula must not reach a spreadsheet as one", rows[0])
	}
	if rows[102]["list"] != "errors" || rows[102]["value"] != "list project p: 500" {
		t.Errorf("last row %v", rows[102])
	}
}

func TestPublishFailures(t *testing.T) {
	t.Run("report bucket fails: the summary is still logged and sent, the error returned", func(t *testing.T) {
		bus, out := &fakeBus{}, &logtest.Buffer{}
		p := newPublisher(bus, &fakeBucket{err: errors.New("AccessDenied")}, out)
		err := p.Publish(t.Context(), testSummary{Kind: "k"}, summary.Status{})
		if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("error %v", err)
		}
		meta, _ := summarytest.ParseMeta(bus.detail(t))
		if meta.Report != nil || !strings.Contains(meta.ReportError, "AccessDenied") || !strings.Contains(out.String(), `"message":"summary"`) {
			t.Errorf("meta %+v, log %s", meta, out.String())
		}
	})
	t.Run("entry refused by the bus", func(t *testing.T) {
		out := &logtest.Buffer{}
		err := newPublisher(&fakeBus{fail: "InvalidArgument"}, nil, out).Publish(t.Context(), testSummary{Kind: "k"}, summary.Status{})
		if err == nil || !strings.Contains(err.Error(), "InvalidArgument") || !strings.Contains(out.String(), `"message":"summary"`) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("bucket and bus without clients: an error, not a panic", func(t *testing.T) {
		out := &logtest.Buffer{}
		p := &summary.Publisher{Function: "f", Bus: "b", ReportBucket: "state", Log: logging.New(out, slog.LevelInfo)}
		err := p.Publish(t.Context(), testSummary{Kind: "k"}, summary.Status{})
		if err == nil || !strings.Contains(err.Error(), "no S3 client") || !strings.Contains(err.Error(), "no EventBridge client") || !strings.Contains(out.String(), `"report_error"`) {
			t.Errorf("error %v, log %s", err, out.String())
		}
	})
	t.Run("no bus, no bucket: logged only", func(t *testing.T) {
		out := &logtest.Buffer{}
		p := &summary.Publisher{Function: "f", Log: logging.New(out, slog.LevelInfo)}
		if err := p.Publish(t.Context(), testSummary{Kind: "k", Done: items(100, "x")}, summary.Status{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `"left_out":75`) {
			t.Errorf("log %s", out.String())
		}
	})
}

func TestCSV(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no lists", `{"kind":"k","count":1}`, "list\n"},
		{"items of two shapes, plain values, nested values as JSON", `{"a":[{"id":"1","x":{"y":2}},{"id":"2","z":true}],"errors":["boom, and \"quotes\""],"b":{"c":[{"z":null,"w":-1}]}}`,
			"list,id,x,z,w,value\na,1,\"{\"\"y\"\":2}\",,,\na,2,,true,,\nerrors,,,,,\"boom, and \"\"quotes\"\"\"\nb.c,,,,-1,\n"},
		{"formulas neutralised", `{"a":[{"n":"+1"},{"n":"@x"},{"n":"-2"},{"n":"ok"}]}`, "list,n\na,'+1\na,'@x\na,'-2\na,ok\n"},
		{"empty lists", `{"a":[],"b":{"c":[]}}`, "list\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := summary.CSV([]byte(tt.in))
			if err != nil || string(got) != tt.want {
				t.Errorf("CSV = %q, %v\nwant %q", got, err, tt.want)
			}
			if _, err := summarytest.CSVRows(got); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := summary.CSV([]byte(`{"a":`)); err == nil {
		t.Error("CSV of broken JSON: no error")
	}
}

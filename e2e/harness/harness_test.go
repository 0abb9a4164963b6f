package harness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

func TestFailuresReadsPartialBatchResponses(t *testing.T) {
	batch := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1"}, {MessageId: "m2"}}}
	tests := []struct {
		name       string
		result     runtimeapi.Result
		wantFailed []string
		wantWhole  string // substring of why the whole batch failed
	}{
		{"success, empty list", runtimeapi.Result{Payload: []byte(`{"batchItemFailures":[]}`)}, nil, ""},
		{"success, null", runtimeapi.Result{Payload: []byte(`null`)}, nil, ""},
		{"one item failed", runtimeapi.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"m2"}]}`)}, []string{"m2"}, ""},
		{"function error", runtimeapi.Result{ErrorType: "errorString", ErrorMessage: "boom"}, nil, "invocation failed: errorString: boom"},
		{"crash", runtimeapi.Result{ErrorType: runtimeapi.ErrorTypeExit, ErrorMessage: "exit status 2"}, nil, "Runtime.ExitError"},
		{"not a batch response", runtimeapi.Result{Payload: []byte(`"done"`)}, nil, "not a batch response"},
		{"unknown item", runtimeapi.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"m9"}]}`)}, nil, `"m9" is not a message of the batch`},
		{"empty item", runtimeapi.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":""}]}`)}, nil, `"" is not a message`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, failed, why := failures(Delivery{Event: batch, Result: tt.result})
			if tt.wantWhole != "" {
				if !strings.Contains(why, tt.wantWhole) || failed != nil {
					t.Fatalf("why %q, failed %v; want the whole batch failed with %q", why, failed, tt.wantWhole)
				}
				return
			}
			if why != "" || len(failed) != len(tt.wantFailed) {
				t.Fatalf("why %q, failed %v; want %v", why, failed, tt.wantFailed)
			}
			for _, id := range tt.wantFailed {
				if !failed[id] {
					t.Errorf("%s not failed", id)
				}
			}
		})
	}
}

func TestSQSEventIsWhatLambdaSends(t *testing.T) {
	msgs := []sqstypes.Message{{
		MessageId: aws.String("059f36b4-87a3-44ab-83d2-661975830a7d"), ReceiptHandle: aws.String("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"),
		Body: aws.String(`{"email":"jane@example.com"}`), MD5OfBody: aws.String("e4e68fb7bd0e697a0ae8f1bb342846b3"), MD5OfMessageAttributes: aws.String("00484c68...59e48f06"),
		Attributes:        map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"hris": {DataType: aws.String("String"), StringValue: aws.String("workday")}},
	}}
	b, err := json.Marshal(SQSEvent("arn:aws:sqs:us-east-1:000000000000:q", msgs))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Records []map[string]any `json:"Records"`
	}
	if err := json.Unmarshal(b, &got); err != nil || len(got.Records) != 1 {
		t.Fatalf("%s: %v", b, err)
	}
	r := got.Records[0]
	want := map[string]any{
		"messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
		"body": `{"email":"jane@example.com"}`, "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
		"eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q", "awsRegion": "us-east-1",
	}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s = %v, want %v", k, r[k], v)
		}
	}
	attrs, _ := r["attributes"].(map[string]any)
	if attrs["ApproximateReceiveCount"] != "1" || attrs["SentTimestamp"] != "1545082649183" {
		t.Errorf("attributes %v", attrs)
	}
	ma, _ := r["messageAttributes"].(map[string]any)
	hris, _ := ma["hris"].(map[string]any)
	if hris["stringValue"] != "workday" || hris["dataType"] != "String" {
		t.Errorf("message attributes %v", ma)
	}
}

func TestLeaks(t *testing.T) {
	planted := "sk-proj-" + strings.Repeat("x9", 20)
	other := "sk-svcacct-" + strings.Repeat("Q", 30)
	lines := []string{
		`{"level":"INFO","message":"summary"}`,
		`{"message":"created key","key":"` + planted + `"}`,
		`error: unexpected ` + other + ` in body`,
		`{"message":"listed","redacted_value":"sk-proj-...x9x9"}`,
		`{"message":"masked","key":"sk-admin-[REDACTED]"}`,
	}
	leaks := Leaks("fn", lines, []string{planted})
	if len(leaks) != 2 {
		t.Fatalf("leaks %v", leaks)
	}
	if l := leaks[0]; l.Line != 2 || l.What != "planted key" || l.Kind != "sk-proj-" {
		t.Errorf("first leak %+v", l)
	}
	if l := leaks[1]; l.Line != 3 || l.What != "key-shaped token" || l.Kind != "sk-svcacct-" {
		t.Errorf("second leak %+v", l)
	}
	for _, l := range leaks {
		if strings.Contains(l.String(), planted) || strings.Contains(l.String(), other) {
			t.Error("a leak report carries the key")
		}
	}
}

func TestLogbookWritesRedactedLines(t *testing.T) {
	planted := "sk-admin-" + strings.Repeat("k", 32)
	dir := filepath.Join(t.TempDir(), "logs")
	b, err := NewLogbook(dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := []runtimeapi.Line{{Stream: "stdout", Text: `{"message":"ok"}`}, {Stream: "stderr", Text: "oops " + planted}}
	for range 2 {
		leaks, err := b.Record("TestX/offboarding", lines, []string{planted})
		if err != nil || len(leaks) != 1 {
			t.Fatalf("leaks %v, %v", leaks, err)
		}
	}
	files, n, leaks := b.Totals()
	if files != 2 || n != 4 || len(leaks) != 2 {
		t.Errorf("totals %d files, %d lines, %d leaks", files, n, len(leaks))
	}
	for _, name := range []string{"TestX_offboarding.log", "TestX_offboarding.2.log"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(got), planted) || !strings.Contains(string(got), "stderr\toops sk-admin-[REDACTED]") {
			t.Errorf("%s holds %q", name, strings.ReplaceAll(string(got), planted, "<planted>"))
		}
	}
}

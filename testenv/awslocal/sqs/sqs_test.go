package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	sqslocal "github.com/orgwarden/orgwarden/testenv/awslocal/sqs"
	"github.com/orgwarden/orgwarden/testenv/awslocal/sqs/sqstest"
)

// clock is a manual clock for the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T, attrs map[string]string) (*sqslocal.Server, *awssqs.Client, *clock, string) {
	t.Helper()
	clk := newClock()
	srv := sqstest.New(t, sqslocal.WithClock(clk.Now))
	url, err := srv.CreateQueue(t.Context(), "offboarding", attrs)
	if err != nil {
		t.Fatal(err)
	}
	return srv, srv.Client(), clk, url
}

func send(t *testing.T, c *awssqs.Client, url, body string) *awssqs.SendMessageOutput {
	t.Helper()
	out, err := c.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return out
}

func receive(t *testing.T, c *awssqs.Client, url string, max int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: max,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return out.Messages
}

func attrs(t *testing.T, c *awssqs.Client, url string) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

func counts(t *testing.T, c *awssqs.Client, url string) [3]string {
	a := attrs(t, c, url)
	return [3]string{a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"], a["ApproximateNumberOfMessagesDelayed"]}
}

func TestSendReceiveDeleteWithAttributes(t *testing.T) {
	_, c, _, url := setup(t, nil)
	ctx := t.Context()
	sent, err := c.SendMessage(ctx, &awssqs.SendMessageInput{
		QueueUrl:    aws.String(url),
		MessageBody: aws.String(`{"email":"leaver@example.com"}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"timestamp": {DataType: aws.String("Number"), StringValue: aws.String("1493147359900")},
		},
	})
	if err != nil {
		t.Fatal(err) // the SDK validates MD5OfMessageBody
	}
	// A digest computed independently of this emulator for this attribute.
	if got := aws.ToString(sent.MD5OfMessageAttributes); got != "235c5c510d26fb653d073faed50ae77c" {
		t.Errorf("MD5OfMessageAttributes %s", got)
	}

	msgs := receive(t, c, url, 10)
	if len(msgs) != 1 {
		t.Fatalf("received %d messages", len(msgs))
	}
	m := msgs[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != `{"email":"leaver@example.com"}` {
		t.Errorf("message %s body %q", aws.ToString(m.MessageId), aws.ToString(m.Body))
	}
	if aws.ToString(m.MessageAttributes["timestamp"].StringValue) != "1493147359900" || aws.ToString(m.MD5OfMessageAttributes) != "235c5c510d26fb653d073faed50ae77c" {
		t.Errorf("attributes %v md5 %s", m.MessageAttributes, aws.ToString(m.MD5OfMessageAttributes))
	}
	if m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["SentTimestamp"] == "" || m.Attributes["SenderId"] == "" {
		t.Errorf("system attributes %v", m.Attributes)
	}
	if got := counts(t, c, url); got != [3]string{"0", "1", "0"} {
		t.Errorf("visible/inflight/delayed = %v, want 0/1/0", got)
	}
	if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if got := counts(t, c, url); got != [3]string{"0", "0", "0"} {
		t.Errorf("after delete: %v", got)
	}
	// Deleting again with the same handle succeeds, as in SQS.
	if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

func TestMessageAttributeSelection(t *testing.T) {
	_, c, _, url := setup(t, nil)
	_, err := c.SendMessage(t.Context(), &awssqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String("b"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"reason.code":   {DataType: aws.String("String"), StringValue: aws.String("bad-email")},
			"reason.detail": {DataType: aws.String("String"), StringValue: aws.String("no @")},
			"raw":           {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		names []string
		want  []string
	}{
		{nil, nil},
		{[]string{"All"}, []string{"raw", "reason.code", "reason.detail"}},
		{[]string{".*"}, []string{"raw", "reason.code", "reason.detail"}},
		{[]string{"reason.*"}, []string{"reason.code", "reason.detail"}},
		{[]string{"raw"}, []string{"raw"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.names), func(t *testing.T) {
			out, err := c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MessageAttributeNames: tt.names, VisibilityTimeout: 0})
			if err != nil || len(out.Messages) != 1 {
				t.Fatalf("receive: %v, %d messages", err, len(out.Messages))
			}
			m := out.Messages[0]
			var got []string
			for k := range m.MessageAttributes {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("attributes %v, want %v", got, tt.want)
			}
			if (m.MD5OfMessageAttributes != nil) != (len(tt.want) > 0) {
				t.Errorf("MD5OfMessageAttributes %v with %d attributes", m.MD5OfMessageAttributes, len(tt.want))
			}
			if slices.Contains(got, "raw") && !slices.Equal(m.MessageAttributes["raw"].BinaryValue, []byte{1, 2, 3}) {
				t.Errorf("binary value %v", m.MessageAttributes["raw"].BinaryValue)
			}
			// Make it visible again for the next case.
			if _, err := c.ChangeMessageVisibility(t.Context(), &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVisibilityTimeoutAndReceiveCount(t *testing.T) {
	_, c, clk, url := setup(t, map[string]string{"VisibilityTimeout": "30"})
	send(t, c, url, "m")

	first := receive(t, c, url, 1)
	if len(first) != 1 {
		t.Fatal("no message")
	}
	if again := receive(t, c, url, 1); len(again) != 0 {
		t.Fatalf("message visible during its visibility timeout")
	}
	clk.Advance(29 * time.Second)
	if again := receive(t, c, url, 1); len(again) != 0 {
		t.Fatalf("message visible before its visibility timeout ended")
	}
	clk.Advance(time.Second)
	second := receive(t, c, url, 1)
	if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after the timeout: %d messages, attributes %v", len(second), second)
	}
	if second[0].Attributes["ApproximateFirstReceiveTimestamp"] != first[0].Attributes["ApproximateFirstReceiveTimestamp"] {
		t.Errorf("first receive timestamp changed")
	}
	ctx := t.Context()
	// The first receipt handle is stale: deleting with it does not delete.
	if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if got := counts(t, c, url); got[1] != "1" {
		t.Errorf("a stale receipt handle deleted the message: %v", got)
	}
	// ChangeMessageVisibility extends from now.
	if _, err := c.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: 120}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(119 * time.Second)
	if got := receive(t, c, url, 1); len(got) != 0 {
		t.Error("visible before the extended timeout")
	}
	clk.Advance(time.Second)
	if got := receive(t, c, url, 1); len(got) != 1 {
		t.Error("not visible after the extended timeout")
	}
}

func TestRedriveToDeadLetterQueue(t *testing.T) {
	srv, c, clk, _ := setup(t, nil)
	ctx := t.Context()
	dlqURL, err := srv.CreateQueue(ctx, "offboarding-dlq", nil)
	if err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"3"}`, sqslocal.QueueARN("offboarding-dlq"))
	url, err := srv.CreateQueue(ctx, "work", map[string]string{"VisibilityTimeout": "10", "RedrivePolicy": policy})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs(t, c, url)["RedrivePolicy"]; got != fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":3}`, sqslocal.QueueARN("offboarding-dlq")) {
		t.Errorf("RedrivePolicy answered as %s", got)
	}
	sent := send(t, c, url, "poison")

	for i := 1; i <= 3; i++ {
		msgs := receive(t, c, url, 1)
		if len(msgs) != 1 || msgs[0].Attributes["ApproximateReceiveCount"] != strconv.Itoa(i) {
			t.Fatalf("receive %d: %+v", i, msgs)
		}
		clk.Advance(10 * time.Second) // the function failed: let it come back
	}
	// The fourth receive finds the count exhausted and moves the message.
	if msgs := receive(t, c, url, 1); len(msgs) != 0 {
		t.Fatalf("message delivered a fourth time: %+v", msgs)
	}
	if got := srv.Messages("work"); len(got) != 0 {
		t.Errorf("source queue still holds %+v", got)
	}
	dead := srv.Messages("offboarding-dlq")
	if len(dead) != 1 || dead[0].MessageID != aws.ToString(sent.MessageId) || dead[0].ReceiveCount != 3 || dead[0].DeadLetterSourceARN != sqslocal.QueueARN("work") {
		t.Fatalf("dead-letter queue holds %+v", dead)
	}
	msgs := receive(t, c, dlqURL, 1)
	if len(msgs) != 1 || msgs[0].Attributes["DeadLetterQueueSourceArn"] != sqslocal.QueueARN("work") || msgs[0].Attributes["ApproximateReceiveCount"] != "4" {
		t.Errorf("received from the DLQ: %+v", msgs)
	}
}

func TestDirectSendToDeadLetterQueueWithReason(t *testing.T) {
	// The offboarding function's path for bad input.
	srv, c, _, url := setup(t, nil)
	_, err := c.SendMessage(t.Context(), &awssqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String(`{"not":"an offboarding request"}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"reason": {DataType: aws.String("String"), StringValue: aws.String("missing email")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Messages("offboarding")
	if len(got) != 1 || got[0].Attributes["reason"].StringValue != "missing email" || got[0].State != "visible" || got[0].ReceiveCount != 0 {
		t.Errorf("inspected %+v", got)
	}
}

func TestDelayedMessages(t *testing.T) {
	_, c, clk, url := setup(t, map[string]string{"DelaySeconds": "5"})
	send(t, c, url, "queue default")
	if _, err := c.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("own delay"), DelaySeconds: 20}); err != nil {
		t.Fatal(err)
	}
	if got := counts(t, c, url); got != [3]string{"0", "0", "2"} {
		t.Errorf("visible/inflight/delayed = %v", got)
	}
	clk.Advance(5 * time.Second)
	if msgs := receive(t, c, url, 10); len(msgs) != 1 || aws.ToString(msgs[0].Body) != "queue default" {
		t.Errorf("after 5s: %+v", msgs)
	}
	clk.Advance(15 * time.Second)
	if msgs := receive(t, c, url, 10); len(msgs) != 1 || aws.ToString(msgs[0].Body) != "own delay" {
		t.Errorf("after 20s: %+v", msgs)
	}
}

func TestBatches(t *testing.T) {
	_, c, _, url := setup(t, nil)
	ctx := t.Context()
	out, err := c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}},
		{Id: aws.String("b"), MessageBody: aws.String("two")},
		{Id: aws.String("bad"), MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("Weird"), StringValue: aws.String("v")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "bad" || !out.Failed[0].SenderFault || aws.ToString(out.Failed[0].Code) != "InvalidParameterValue" {
		t.Fatalf("batch result: %d ok, failed %+v", len(out.Successful), out.Failed)
	}
	msgs := receive(t, c, url, 10)
	if len(msgs) != 2 {
		t.Fatalf("received %d", len(msgs))
	}
	del, err := c.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("1"), ReceiptHandle: msgs[0].ReceiptHandle},
		{Id: aws.String("2"), ReceiptHandle: msgs[1].ReceiptHandle},
		{Id: aws.String("3"), ReceiptHandle: aws.String("not a handle")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Successful) != 2 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Errorf("delete batch: %+v", del)
	}
	if got := counts(t, c, url); got != [3]string{"0", "0", "0"} {
		t.Errorf("after batch delete: %v", got)
	}

	errTests := []struct {
		name    string
		entries []types.SendMessageBatchRequestEntry
		want    any
	}{
		{"empty", []types.SendMessageBatchRequestEntry{}, new(*types.EmptyBatchRequest)},
		{"eleven", func() []types.SendMessageBatchRequestEntry {
			var e []types.SendMessageBatchRequestEntry
			for i := range 11 {
				e = append(e, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String("x")})
			}
			return e
		}(), new(*types.TooManyEntriesInBatchRequest)},
		{"repeated id", []types.SendMessageBatchRequestEntry{{Id: aws.String("a"), MessageBody: aws.String("x")}, {Id: aws.String("a"), MessageBody: aws.String("y")}}, new(*types.BatchEntryIdsNotDistinct)},
		{"bad id", []types.SendMessageBatchRequestEntry{{Id: aws.String("a b"), MessageBody: aws.String("x")}}, new(*types.InvalidBatchEntryId)},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: tt.entries})
			if !errors.As(err, tt.want) {
				t.Errorf("got %v, want %T", err, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv, c, _, url := setup(t, nil)
	ctx := t.Context()
	missing := srv.QueueURL("missing")
	tests := []struct {
		name      string
		call      func() error
		wantType  any
		wantCode  string // the legacy query code the SDK reports
		wantFault smithy.ErrorFault
	}{
		{"unknown queue", func() error {
			_, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(missing), MessageBody: aws.String("x")})
			return err
		}, new(*types.QueueDoesNotExist), "AWS.SimpleQueueService.NonExistentQueue", smithy.FaultClient},
		{"get url of unknown queue", func() error {
			_, err := c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("missing")})
			return err
		}, new(*types.QueueDoesNotExist), "AWS.SimpleQueueService.NonExistentQueue", smithy.FaultClient},
		{"queue exists with other attributes", func() error {
			_, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("offboarding"), Attributes: map[string]string{"VisibilityTimeout": "99"}})
			return err
		}, new(*types.QueueNameExists), "QueueAlreadyExists", smithy.FaultClient},
		{"dead-letter target missing", func() error {
			_, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("x"), Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:nope","maxReceiveCount":3}`}})
			return err
		}, nil, "InvalidParameterValue", smithy.FaultClient},
		{"unknown attribute", func() error {
			_, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("x"), Attributes: map[string]string{"Colour": "blue"}})
			return err
		}, new(*types.InvalidAttributeName), "InvalidAttributeName", smithy.FaultClient},
		{"fifo", func() error {
			_, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("x"), Attributes: map[string]string{"FifoQueue": "true"}})
			return err
		}, new(*types.InvalidAttributeValue), "InvalidAttributeValue", smithy.FaultClient},
		{"malformed receipt handle", func() error {
			_, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("!!")})
			return err
		}, new(*types.ReceiptHandleIsInvalid), "ReceiptHandleIsInvalid", smithy.FaultClient},
		{"visibility of a message no longer in flight", func() error {
			send(t, c, url, "x")
			m := receive(t, c, url, 1)[0]
			release := &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}
			if _, err := c.ChangeMessageVisibility(ctx, release); err != nil {
				t.Fatal(err)
			}
			_, err := c.ChangeMessageVisibility(ctx, release)
			return err
		}, new(*types.MessageNotInflight), "AWS.SimpleQueueService.MessageNotInflight", smithy.FaultClient},
		{"too many messages asked", func() error {
			_, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 11})
			return err
		}, nil, "InvalidParameterValue", smithy.FaultClient},
		{"control character in body", func() error {
			_, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("a\x01b")})
			return err
		}, new(*types.InvalidMessageContents), "InvalidMessageContents", smithy.FaultClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.wantType != nil && !errors.As(err, tt.wantType) {
				t.Errorf("got %v, want %T", err, tt.wantType)
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tt.wantCode || api.ErrorFault() != tt.wantFault {
				t.Errorf("got %v, want code %s", err, tt.wantCode)
			}
		})
	}
}

func TestPurgeQueue(t *testing.T) {
	_, c, clk, url := setup(t, nil)
	ctx := t.Context()
	send(t, c, url, "a")
	send(t, c, url, "b")
	receive(t, c, url, 1)
	if _, err := c.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	if got := counts(t, c, url); got != [3]string{"0", "0", "0"} {
		t.Errorf("after purge: %v", got)
	}
	_, err := c.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: aws.String(url)})
	var inProgress *types.PurgeQueueInProgress
	if !errors.As(err, &inProgress) {
		t.Errorf("second purge within 60s: %v", err)
	}
	clk.Advance(60 * time.Second)
	if _, err := c.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Errorf("purge after 60s: %v", err)
	}
}

func TestQueueURLAndAttributes(t *testing.T) {
	srv, c, _, url := setup(t, map[string]string{"VisibilityTimeout": "45", "MessageRetentionPeriod": "1209600"})
	out, err := c.GetQueueUrl(t.Context(), &awssqs.GetQueueUrlInput{QueueName: aws.String("offboarding")})
	if err != nil || aws.ToString(out.QueueUrl) != url || url != srv.QueueURL("offboarding") {
		t.Fatalf("GetQueueUrl %v %v, CreateQueue %s", out, err, url)
	}
	a := attrs(t, c, url)
	want := map[string]string{
		"QueueArn": "arn:aws:sqs:us-east-1:000000000000:offboarding", "VisibilityTimeout": "45",
		"MessageRetentionPeriod": "1209600", "MaximumMessageSize": "1048576", "DelaySeconds": "0",
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %q, want %q", k, a[k], v)
		}
	}
	// CreateQueue with the same attributes answers the existing URL.
	again, err := c.CreateQueue(t.Context(), &awssqs.CreateQueueInput{QueueName: aws.String("offboarding"), Attributes: map[string]string{"VisibilityTimeout": "45"}})
	if err != nil || aws.ToString(again.QueueUrl) != url {
		t.Errorf("idempotent CreateQueue: %v %v", again, err)
	}
}

func TestRetention(t *testing.T) {
	_, c, clk, url := setup(t, map[string]string{"MessageRetentionPeriod": "60"})
	send(t, c, url, "old")
	clk.Advance(60 * time.Second)
	if msgs := receive(t, c, url, 1); len(msgs) != 0 {
		t.Errorf("expired message delivered: %+v", msgs)
	}
}

// TestLongPoll: a waiting ReceiveMessage returns as soon as a message is
// sent, well before its wait time.
func TestLongPoll(t *testing.T) {
	srv := sqstest.New(t)
	c := srv.Client()
	url, err := srv.CreateQueue(t.Context(), "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		msgs []types.Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		out, err := c.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{msgs: out.Messages}
	}()
	if err := srv.WaitPolling(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		t.Fatalf("poll returned before any message: %+v", r)
	default:
	}
	send(t, c, url, "wake up")
	select {
	case r := <-done:
		if r.err != nil || len(r.msgs) != 1 || aws.ToString(r.msgs[0].Body) != "wake up" {
			t.Fatalf("long poll: %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll did not return after a send")
	}
}

func TestLongPollTimesOutEmpty(t *testing.T) {
	srv := sqstest.New(t)
	c := srv.Client()
	url, err := srv.CreateQueue(t.Context(), "q", map[string]string{"ReceiveMessageWaitTimeSeconds": "1"})
	if err != nil {
		t.Fatal(err)
	}
	// The queue's default wait applies when the request sets none.
	start := time.Now()
	out, err := c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("empty poll: %v %v", out, err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("returned after %v, before the queue's 1s wait time", waited)
	}
}

package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// EventSourceMapping plays Lambda's SQS event source mapping with
// ReportBatchItemFailures on, as the stack configures it: it receives a
// batch, invokes the function with the SQS event Lambda builds, and deletes
// the messages the function did not report as failed. A failed invocation
// (function error, timeout, crash) or a response that names a message not
// in the batch leaves the whole batch to reappear after the visibility
// timeout; the queue's redrive policy then moves messages that keep failing
// to the dead-letter queue.
type EventSourceMapping struct {
	SQS       *sqs.Client
	QueueURL  string
	QueueARN  string
	BatchSize int32
	Function  *runtimeapi.Function
}

// Delivery is one invocation of the function with a batch.
type Delivery struct {
	Event    events.SQSEvent
	Result   runtimeapi.Result
	Response events.SQSEventResponse
	// Deleted are the message ids deleted from the queue afterwards.
	Deleted []string
	// WholeBatchFailed: nothing was deleted, every message comes back.
	WholeBatchFailed bool
	// Why the whole batch failed, when it did.
	Why string
}

// Poll receives one batch and delivers it. It returns false when the
// queue had no visible message.
func (m *EventSourceMapping) Poll(ctx context.Context, opts runtimeapi.InvokeOptions) (Delivery, bool, error) {
	size := m.BatchSize
	if size <= 0 {
		size = 10
	}
	out, err := m.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(m.QueueURL), MaxNumberOfMessages: min(size, 10),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return Delivery{}, false, fmt.Errorf("receive from %s: %w", m.QueueURL, err)
	}
	if len(out.Messages) == 0 {
		return Delivery{}, false, nil
	}
	d := Delivery{Event: SQSEvent(m.QueueARN, out.Messages)}
	payload, err := json.Marshal(d.Event)
	if err != nil {
		return d, true, fmt.Errorf("encode sqs event: %w", err)
	}
	d.Result, err = m.Function.Invoke(ctx, payload, opts)
	if err != nil {
		return d, true, err
	}

	var failed map[string]bool
	var why string
	d.Response, failed, why = failures(d)
	if why != "" {
		d.WholeBatchFailed, d.Why = true, why
		return d, true, nil
	}
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, msg := range out.Messages {
		if failed[aws.ToString(msg.MessageId)] {
			continue
		}
		entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: msg.ReceiptHandle})
		d.Deleted = append(d.Deleted, aws.ToString(msg.MessageId))
	}
	if len(entries) > 0 {
		res, err := m.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.QueueURL), Entries: entries})
		if err != nil {
			return d, true, fmt.Errorf("delete processed messages: %w", err)
		}
		if len(res.Failed) > 0 {
			return d, true, fmt.Errorf("delete processed messages: %d failed: %s", len(res.Failed), aws.ToString(res.Failed[0].Message))
		}
	}
	return d, true, nil
}

// failures reads the partial batch response the way Lambda does: an
// invocation error, a response that is not a batch response, or an item
// identifier that is empty or not in the batch fails the whole batch.
func failures(d Delivery) (events.SQSEventResponse, map[string]bool, string) {
	var resp events.SQSEventResponse
	if d.Result.Failed() {
		return resp, nil, "invocation failed: " + d.Result.ErrorType + ": " + d.Result.ErrorMessage
	}
	inBatch := map[string]bool{}
	for _, r := range d.Event.Records {
		inBatch[r.MessageId] = true
	}
	if p := strings.TrimSpace(string(d.Result.Payload)); p != "" && p != "null" {
		if err := json.Unmarshal(d.Result.Payload, &resp); err != nil {
			return resp, nil, fmt.Sprintf("response is not a batch response: %v", err)
		}
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == "" || !inBatch[f.ItemIdentifier] {
			return resp, nil, fmt.Sprintf("batch item failure %q is not a message of the batch", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return resp, failed, ""
}

// SQSEvent is the event Lambda's SQS event source builds from received messages.
func SQSEvent(queueARN string, msgs []sqstypes.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes: map[string]string{}, MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource: "aws:sqs", EventSourceARN: queueARN, AWSRegion: awslocal.Region,
		}
		for k, v := range m.Attributes {
			rec.Attributes[k] = v
		}
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{
				DataType: aws.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue,
				StringListValues: []string{}, BinaryListValues: [][]byte{},
			}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

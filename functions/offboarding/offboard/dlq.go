package offboard

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Message attributes orgwarden adds to a dead-lettered message.
const (
	AttrErrorReason     = "orgwarden-error-reason"
	AttrErrorKind       = "orgwarden-error-kind"
	AttrSourceMessageID = "orgwarden-source-message-id"
)

// maxAttributes is SQS's limit of message attributes per message.
const maxAttributes = 10

// deadLetter sends the original message to the dead-letter queue with the
// reason it can never succeed. The original's own attributes are kept as
// far as SQS's limit of ten allows; orgwarden's three come first.
func (h *Handler) deadLetter(ctx context.Context, m events.SQSMessage, kind FailureKind, reason string) error {
	attrs := map[string]types.MessageAttributeValue{
		AttrErrorReason:     {DataType: aws.String("String"), StringValue: aws.String(truncateUTF8(reason, 1024))},
		AttrErrorKind:       {DataType: aws.String("String"), StringValue: aws.String(string(kind))},
		AttrSourceMessageID: {DataType: aws.String("String"), StringValue: aws.String(m.MessageId)},
	}
	for name, a := range m.MessageAttributes {
		if len(attrs) >= maxAttributes {
			break
		}
		if _, ours := attrs[name]; ours {
			continue
		}
		v := types.MessageAttributeValue{DataType: aws.String(a.DataType)}
		switch {
		case a.StringValue != nil:
			v.StringValue = a.StringValue
		case a.BinaryValue != nil:
			v.BinaryValue = a.BinaryValue
		default:
			continue // list values are reserved by SQS and never set
		}
		attrs[name] = v
	}
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(h.cfg.DLQURL),
		MessageBody:       aws.String(m.Body),
		MessageAttributes: attrs,
	}
	if strings.HasSuffix(h.cfg.DLQURL, ".fifo") {
		// A FIFO source needs a FIFO dead-letter queue; keep the group, and
		// let the source message id deduplicate a resend.
		group := m.Attributes["MessageGroupId"]
		if group == "" {
			group = "orgwarden-offboarding"
		}
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(m.MessageId)
	}
	if _, err := h.deps.AWS.SQS.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send to dead-letter queue: %w", err)
	}
	return nil
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

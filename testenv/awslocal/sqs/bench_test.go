package sqs_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/orgwarden/orgwarden/testenv/awslocal/sqs/sqstest"
)

// BenchmarkSendReceiveDelete measures one message's trip through a queue.
func BenchmarkSendReceiveDelete(b *testing.B) {
	srv := sqstest.New(b)
	c := srv.Client()
	url, err := srv.CreateQueue(b.Context(), "q", nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.SendMessage(b.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"email":"a@example.com"}`)}); err != nil {
			b.Fatal(err)
		}
		out, err := c.ReceiveMessage(b.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
		if err != nil || len(out.Messages) != 1 {
			b.Fatalf("receive: %v", err)
		}
		if _, err := c.DeleteMessage(b.Context(), &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			b.Fatal(err)
		}
	}
}

package sqs_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	sqslocal "github.com/orgwarden/orgwarden/testenv/awslocal/sqs"
	"github.com/orgwarden/orgwarden/testenv/awslocal/sqs/sqstest"
)

// TestEventSourceMappingLoop drives the queue the way Lambda's SQS event
// source mapping does, with several concurrent pollers: receive a batch,
// invoke, delete the successes, leave failures to reappear after the
// visibility timeout. Good messages are processed exactly once; a poison
// message reaches the dead-letter queue after maxReceiveCount receives.
func TestEventSourceMappingLoop(t *testing.T) {
	const (
		good        = 200
		pollers     = 4
		maxReceives = 3
	)
	clk := newClock()
	srv := sqstest.New(t, sqslocal.WithClock(clk.Now))
	c := srv.Client()
	ctx := t.Context()
	if _, err := srv.CreateQueue(ctx, "dlq", nil); err != nil {
		t.Fatal(err)
	}
	url, err := srv.CreateQueue(ctx, "work", map[string]string{
		"VisibilityTimeout": "30",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, sqslocal.QueueARN("dlq"), maxReceives),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < good; i += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for j := i; j < i+10; j++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), MessageBody: aws.String(fmt.Sprintf("person-%03d", j))})
		}
		if _, err := c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
			t.Fatal(err)
		}
	}
	send(t, c, url, "poison")

	var mu sync.Mutex
	processed := map[string]int{}
	poisonSeen := 0
	invoke := func(body string) error {
		mu.Lock()
		defer mu.Unlock()
		if body == "poison" {
			poisonSeen++
			return fmt.Errorf("cannot offboard %q", body)
		}
		processed[body]++
		return nil
	}

	// Rounds: all pollers drain what is visible, then time moves past the
	// visibility timeout so that failures come back.
	for round := 0; round <= maxReceives; round++ {
		var wg sync.WaitGroup
		for range pollers {
			wg.Go(func() {
				for {
					out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
					if err != nil {
						t.Error(err)
						return
					}
					if len(out.Messages) == 0 {
						return
					}
					var done []types.DeleteMessageBatchRequestEntry
					for i, m := range out.Messages {
						if invoke(aws.ToString(m.Body)) == nil {
							done = append(done, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
						}
					}
					if len(done) == 0 {
						continue
					}
					res, err := c.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: done})
					if err != nil || len(res.Failed) > 0 {
						t.Errorf("delete batch: %v %+v", err, res)
						return
					}
				}
			})
		}
		wg.Wait()
		clk.Advance(30 * time.Second)
	}

	if len(processed) != good {
		t.Errorf("processed %d distinct messages, want %d", len(processed), good)
	}
	for body, n := range processed {
		if n != 1 {
			t.Errorf("%s processed %d times", body, n)
		}
	}
	if poisonSeen != maxReceives {
		t.Errorf("poison invoked %d times, want %d", poisonSeen, maxReceives)
	}
	if left := srv.Messages("work"); len(left) != 0 {
		t.Errorf("work queue still holds %d messages", len(left))
	}
	dead := srv.Messages("dlq")
	if len(dead) != 1 || !strings.Contains(dead[0].Body, "poison") {
		t.Errorf("dead-letter queue: %+v", dead)
	}
}

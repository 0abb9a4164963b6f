// Package sqs emulates Amazon SQS standard queues over the protocol the
// service/sqs client speaks: AWS JSON 1.0 with X-Amz-Target:
// AmazonSQS.<Operation>, errors carrying both the JSON error type and the
// legacy x-amzn-query-error code (SQS is awsQueryCompatible).
//
// It models what the offboarding function and its event-source soak test
// rely on: visibility timeouts, receive counts, redrive to a dead-letter
// queue once a message has been received maxReceiveCount times, delays,
// long polling, batches, message attributes with SQS's MD5 digests, and
// PurgeQueue's once-a-minute rule. FIFO queues are not emulated.
//
// Time comes from a clock (WithClock), so tests can let visibility timeouts
// expire without waiting; long polls themselves wait in real time.
package sqs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/awslocal/awsjson"
)

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now for every time SQS keeps: send times,
// visibility timeouts, delays, retention and the purge interval.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger receives one debug line per request.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.logger = l } }

// Server is an SQS endpoint on loopback.
type Server struct {
	// URL is the endpoint for BaseEndpoint or AWS_ENDPOINT_URL_SQS. Queue
	// URLs are URL + "/000000000000/<name>".
	URL string

	api    *awsjson.Service
	srv    *httptest.Server
	now    func() time.Time
	logger *slog.Logger

	mu     sync.Mutex
	queues []*queue
	// pollers counts long polls waiting now; pollChange is closed and
	// replaced whenever it changes.
	pollers    int
	pollChange chan struct{}
}

// Start serves an SQS without queues on a loopback port.
func Start(opts ...Option) (*Server, error) {
	s := &Server{now: time.Now, pollChange: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	api, srv, err := awsjson.Serve(awsjson.Config{
		TargetPrefix:   "AmazonSQS",
		Version:        "1.0",
		ErrorNamespace: "com.amazonaws.sqs",
		Logger:         s.logger,
	}, s.register)
	if err != nil {
		return nil, fmt.Errorf("start local sqs: %w", err)
	}
	s.api, s.srv, s.URL = api, srv, srv.URL
	return s, nil
}

// Client returns a real SDK client for this server.
func (s *Server) Client(optFns ...func(*awssqs.Options)) *awssqs.Client {
	opts := append([]func(*awssqs.Options){func(o *awssqs.Options) {
		o.BaseEndpoint = aws.String(s.URL)
	}}, optFns...)
	return awssqs.NewFromConfig(awslocal.Config(), opts...)
}

// CreateQueue creates a queue through the API and returns its URL.
func (s *Server) CreateQueue(ctx context.Context, name string, attributes map[string]string) (string, error) {
	out, err := s.Client().CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attributes})
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// QueueURL returns the URL a queue of that name has (or would have).
func (s *Server) QueueURL(name string) string {
	return s.URL + "/" + awslocal.AccountID + "/" + name
}

// QueueARN returns the ARN a queue of that name has (or would have), as a
// RedrivePolicy's deadLetterTargetArn names it.
func QueueARN(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", awslocal.Region, awslocal.AccountID, name)
}

// Message is a message as the inspection helpers show it.
type Message struct {
	MessageID    string
	Body         string
	Attributes   map[string]MessageAttribute
	SentAt       time.Time
	ReceiveCount int
	// State is "visible", "inflight" or "delayed".
	State string
	// DeadLetterSourceARN is the queue redrive moved the message from.
	DeadLetterSourceARN string
}

// Messages returns every message in the queue (visible, in flight or
// delayed) in the order they were sent, without receiving them. An unknown
// queue has none.
func (s *Server) Messages(queueName string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queueByNameLocked(queueName)
	if q == nil {
		return nil
	}
	now := s.now()
	q.expire(now)
	out := make([]Message, 0, len(q.messages))
	for _, m := range q.messages {
		state := "visible"
		switch {
		case m.inFlight(now):
			state = "inflight"
		case m.delayed(now):
			state = "delayed"
		}
		attrs := make(map[string]MessageAttribute, len(m.attrs))
		for k, v := range m.attrs {
			v.BinaryValue = slices.Clone(v.BinaryValue)
			attrs[k] = v
		}
		out = append(out, Message{
			MessageID: m.id, Body: m.body, Attributes: attrs, SentAt: m.sent,
			ReceiveCount: m.receiveCount, State: state, DeadLetterSourceARN: m.dlqSourceARN,
		})
	}
	return out
}

// WaitPolling blocks until at least n ReceiveMessage long polls are waiting
// for messages, so that a test can send only once a consumer is parked.
func (s *Server) WaitPolling(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		waiting, changed := s.pollers, s.pollChange
		s.mu.Unlock()
		if waiting >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for %d long polls (%d waiting): %w", n, waiting, ctx.Err())
		}
	}
}

func (s *Server) addPollerLocked(delta int) {
	s.pollers += delta
	close(s.pollChange)
	s.pollChange = make(chan struct{})
}

// Requests returns the request log.
func (s *Server) Requests() []awsjson.Request { return s.api.Requests() }

// Count returns how many requests of the operation were served.
func (s *Server) Count(operation string) int { return s.api.Count(operation) }

// Close shuts the server down, ending long polls.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) register(api *awsjson.Service) {
	api.Handle("CreateQueue", awsjson.Op(s.createQueue))
	api.Handle("GetQueueUrl", awsjson.Op(s.getQueueURL))
	api.Handle("GetQueueAttributes", awsjson.Op(s.getQueueAttributes))
	api.Handle("SetQueueAttributes", awsjson.Op(s.setQueueAttributes))
	api.Handle("DeleteQueue", awsjson.Op(s.deleteQueue))
	api.Handle("ListQueues", awsjson.Op(s.listQueues))
	api.Handle("SendMessage", awsjson.Op(s.sendMessage))
	api.Handle("SendMessageBatch", awsjson.Op(s.sendMessageBatch))
	api.Handle("ReceiveMessage", awsjson.Op(s.receiveMessage))
	api.Handle("DeleteMessage", awsjson.Op(s.deleteMessage))
	api.Handle("DeleteMessageBatch", awsjson.Op(s.deleteMessageBatch))
	api.Handle("ChangeMessageVisibility", awsjson.Op(s.changeMessageVisibility))
	api.Handle("PurgeQueue", awsjson.Op(s.purgeQueue))
}

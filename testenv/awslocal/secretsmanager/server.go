// Package secretsmanager emulates AWS Secrets Manager over its real wire
// protocol (AWS JSON 1.1, X-Amz-Target: secretsmanager.<Operation>) for the
// real service/secretsmanager client.
//
// It models what orgwarden's key rotation relies on, as AWS documents it:
// versions and staging labels (AWSCURRENT, AWSPENDING, AWSPREVIOUS; a label
// on at most one version, unlabelled versions deprecated), ClientRequestToken
// idempotency, secrets addressed by name, ARN or partial ARN, deletion with a
// recovery window, tags, and rotation. RotateSecret calls a RotationInvoker
// the test or demo supplies with the four steps a rotation Lambda receives.
//
// Differences from AWS that callers can observe: RotateSecret runs the steps
// before it answers (AWS answers first and rotates asynchronously), makes one
// attempt per call (AWS retries a failed rotation on its own), and with
// RotateImmediately=false only stores the schedule; versions are never
// pruned; signatures are not checked.
package secretsmanager

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/awslocal/awsjson"
)

// Rotation steps, the values of RotationEvent.Step.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
)

// RotationEvent is the payload Secrets Manager sends to a rotation function.
type RotationEvent struct {
	Step               string `json:"Step"`
	SecretID           string `json:"SecretId"` // the secret's ARN
	ClientRequestToken string `json:"ClientRequestToken"`
	RotationToken      string `json:"RotationToken,omitempty"`
}

// RotationInvoker runs one rotation step of the function functionARN, as
// Secrets Manager's Lambda invocation would; a non-nil error fails the step.
// It is called without any emulator lock held, so it may call back into the
// emulator through the SDK, as real rotation functions do.
type RotationInvoker func(ctx context.Context, functionARN string, event RotationEvent) error

// RotationAttempt records one RotateSecret run.
type RotationAttempt struct {
	SecretARN string
	Token     string
	// Steps are the steps invoked, in order; the last one failed if Err is set.
	Steps []string
	Err   error
	// Resumed is true when the attempt reused a pending version left by an
	// earlier failed rotation.
	Resumed bool
}

// Option configures a Server.
type Option func(*Server)

// WithRotationInvoker sets the function RotateSecret invokes.
func WithRotationInvoker(fn RotationInvoker) Option {
	return func(s *Server) { s.invoker = fn }
}

// WithClock replaces time.Now, e.g. to move past a deletion recovery window.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithLogger receives one debug line per request.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) { s.logger = l }
}

// Server is a Secrets Manager endpoint on loopback.
type Server struct {
	// URL is the endpoint for BaseEndpoint or AWS_ENDPOINT_URL_SECRETS_MANAGER.
	URL string

	api    *awsjson.Service
	srv    *httptest.Server
	now    func() time.Time
	logger *slog.Logger

	mu        sync.Mutex
	seq       int
	secrets   []*secret
	invoker   RotationInvoker
	rotations []RotationAttempt
}

// Start serves an empty Secrets Manager on a loopback port.
func Start(opts ...Option) (*Server, error) {
	s := &Server{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	api, srv, err := awsjson.Serve(awsjson.Config{
		TargetPrefix:      "secretsmanager",
		Version:           "1.1",
		InternalErrorType: "InternalServiceError",
		Redact:            []string{"SecretString", "SecretBinary", "RotationToken"},
		Logger:            s.logger,
	}, s.register)
	if err != nil {
		return nil, fmt.Errorf("start local secrets manager: %w", err)
	}
	s.api, s.srv, s.URL = api, srv, srv.URL
	return s, nil
}

// Client returns a real SDK client for this server.
func (s *Server) Client(optFns ...func(*awssm.Options)) *awssm.Client {
	opts := append([]func(*awssm.Options){func(o *awssm.Options) {
		o.BaseEndpoint = aws.String(s.URL)
	}}, optFns...)
	return awssm.NewFromConfig(awslocal.Config(), opts...)
}

// SetRotationInvoker replaces the rotation invoker, for callers that can
// only build it once the server runs (the function under test needs URL).
func (s *Server) SetRotationInvoker(fn RotationInvoker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invoker = fn
}

// Rotations returns every RotateSecret attempt so far, oldest first.
func (s *Server) Rotations() []RotationAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RotationAttempt, len(s.rotations))
	for i, r := range s.rotations {
		r.Steps = slices.Clone(r.Steps)
		out[i] = r
	}
	return out
}

// Requests returns the request log. Secret values are masked.
func (s *Server) Requests() []awsjson.Request { return s.api.Requests() }

// Count returns how many requests of the operation were served.
func (s *Server) Count(operation string) int { return s.api.Count(operation) }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) register(api *awsjson.Service) {
	api.Handle("CreateSecret", awsjson.Op(s.createSecret))
	api.Handle("GetSecretValue", awsjson.Op(s.getSecretValue))
	api.Handle("PutSecretValue", awsjson.Op(s.putSecretValue))
	api.Handle("DescribeSecret", awsjson.Op(s.describeSecret))
	api.Handle("UpdateSecretVersionStage", awsjson.Op(s.updateSecretVersionStage))
	api.Handle("ListSecretVersionIds", awsjson.Op(s.listSecretVersionIDs))
	api.Handle("ListSecrets", awsjson.Op(s.listSecrets))
	api.Handle("TagResource", awsjson.Op(s.tagResource))
	api.Handle("UntagResource", awsjson.Op(s.untagResource))
	api.Handle("RotateSecret", awsjson.Op(s.rotateSecret))
	api.Handle("DeleteSecret", awsjson.Op(s.deleteSecret))
	api.Handle("RestoreSecret", awsjson.Op(s.restoreSecret))
}

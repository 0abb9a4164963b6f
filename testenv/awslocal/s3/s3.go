// Package s3 runs an in-process S3 on loopback for tests, the demo and the
// end-to-end suite: gofakes3 with its in-memory backend, behind a thin layer
// (fixes.go) that corrects the gofakes3 behaviours orgwarden depends on.
//
// Talk to it with the real aws-sdk-go-v2 client from Server.Client, or point
// any SDK client at Server.URL with path-style addressing.
package s3

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/loopback"
)

// Server is an S3 endpoint on loopback.
type Server struct {
	// URL is the endpoint, e.g. "http://127.0.0.1:43123". Use it as the SDK's
	// BaseEndpoint (or AWS_ENDPOINT_URL_S3) with path-style addressing.
	URL string

	backend *backend
	fixes   *fixes
	srv     *httptest.Server
}

// Start serves a fresh, empty S3 on a loopback port. Call Close when done.
func Start() (*Server, error) {
	mem := &backend{Backend: s3mem.New()}
	faker := gofakes3.New(mem, gofakes3.WithAutoBucket(false))
	fx := newFixes(faker.Server(), mem)
	srv, err := loopback.Serve(fx)
	if err != nil {
		return nil, fmt.Errorf("start local s3: %w", err)
	}
	return &Server{URL: srv.URL, backend: mem, fixes: fx, srv: srv}, nil
}

// Client returns a real SDK client for this server: path-style, fake static
// credentials, region us-east-1. optFns run last and may override any of it.
func (s *Server) Client(optFns ...func(*awss3.Options)) *awss3.Client {
	opts := append([]func(*awss3.Options){func(o *awss3.Options) {
		o.BaseEndpoint = aws.String(s.URL)
		o.UsePathStyle = true
	}}, optFns...)
	return awss3.NewFromConfig(awslocal.Config(), opts...)
}

// CreateBucket creates a bucket through the S3 API.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	if _, err := s.Client().CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// IgnoreConditions makes the server drop If-Match and If-None-Match from
// every write, as some S3-compatible servers and proxies do: a test of how
// a client notices. Off by default.
func (s *Server) IgnoreConditions(on bool) { s.fixes.ignoreConditions.Store(on) }

// Close shuts the server down and drops every object.
func (s *Server) Close() { s.srv.Close() }

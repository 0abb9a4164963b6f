// Package adminapitest serves the Admin API emulator on loopback for tests,
// in the manner of net/http/httptest.
//
//	srv := adminapitest.New(t, emulator.Options{Seed: &seed})
//	client := srv.SDKClient()
//
// When the OpenAI spec is present (see contract.SpecPath), every request and
// response is validated against it, and violations fail the test when it
// ends, each naming the operation, the direction and the field. Request
// violations the emulator refused (a test sending bad input on purpose) are
// not failures. Without the spec the server still runs, unvalidated, and the
// test logs that once.
package adminapitest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/contract"
)

// Server is an emulator on a loopback listener.
type Server struct {
	// URL is the API base URL, ending in /v1 (what the SDK's WithBaseURL takes).
	URL string
	// AdminKey is an admin key value the emulator accepts. Never log it.
	AdminKey string
	// Emulator is the organization behind the server, for setup and inspection.
	Emulator *adminapi.Emulator
	// Validator has seen all traffic; nil when validation is off or the spec is absent.
	Validator *contract.Validator
	// HTTP is the underlying test server.
	HTTP *httptest.Server
}

// Option changes how New serves the emulator.
type Option func(*config)

type config struct {
	validate bool
}

// WithoutValidation serves without the contract middleware, for benchmarks
// and for tests that make the emulator break the spec on purpose (raw audit
// events of unknown types).
func WithoutValidation() Option { return func(c *config) { c.validate = false } }

// New builds an emulator from opts and serves it until the test ends.
func New(t testing.TB, opts adminapi.Options, options ...Option) *Server {
	t.Helper()
	cfg := config{validate: true}
	for _, o := range options {
		o(&cfg)
	}
	emu, err := adminapi.New(opts)
	if err != nil {
		t.Fatalf("adminapitest: %v", err)
	}
	s := &Server{AdminKey: emu.AdminKey(), Emulator: emu}
	var h http.Handler = emu
	if cfg.validate {
		spec, err := contract.Find()
		switch {
		case errors.Is(err, contract.ErrSpecNotFound):
			t.Logf("adminapitest: %v; traffic is not validated", err)
		case err != nil:
			t.Fatalf("adminapitest: %v", err)
		default:
			s.Validator = contract.NewValidator(spec)
			h = s.Validator.Middleware(emu)
			// Registered before the server's Close, so it runs after it: every
			// request has finished by the time violations are read.
			t.Cleanup(func() {
				for _, v := range s.Validator.Failures() {
					t.Errorf("contract violation: %s", v)
				}
			})
		}
	}
	s.HTTP = httptest.NewServer(h)
	t.Cleanup(s.HTTP.Close)
	s.URL = s.HTTP.URL + "/v1"
	return s
}

// SDKClient returns an openai-go client for this server with the admin key.
// Retries are off unless opts turn them on, so faults reach the test as they are.
func (s *Server) SDKClient(opts ...option.RequestOption) openai.Client {
	base := []option.RequestOption{
		option.WithBaseURL(s.URL),
		option.WithAdminAPIKey(s.AdminKey),
		option.WithHTTPClient(s.HTTP.Client()),
		option.WithMaxRetries(0),
	}
	return openai.NewClient(append(base, opts...)...)
}

// Package adminclient is orgwarden's one client of the OpenAI Administration
// API. It is built on the official SDK (github.com/openai/openai-go/v3,
// client.Admin.Organization.*) and adds what the jobs need on top of it:
// iteration over every page, the lookups the jobs share, bounded concurrency
// and a client-side rate limiter, retries that honour Retry-After, one
// structured log line per change, a dry-run mode, and errors without key
// material.
//
// Retries are the SDK's own: it retries connection errors, 408, 409, 429
// and 5xx, waiting as Retry-After-Ms or Retry-After say and backing off
// exponentially otherwise. Creates whose duplicate would matter (admin keys,
// service accounts, service-account keys, invites) are sent once, with SDK
// retries off; the caller decides what to do when their outcome is unknown.
package adminclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"golang.org/x/time/rate"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// Options configure a Client. Zero values take the documented defaults.
type Options struct {
	BaseURL  string         // default https://api.openai.com/v1
	AdminKey logging.Secret // required
	// SelfKeyID is the id of AdminKey in the API, when known. The client
	// refuses to delete it (see DeleteAdminAPIKey).
	SelfKeyID string

	MaxRetries    int           // default 6; negative means none
	MaxRetryDelay time.Duration // longest server-directed wait honoured; default 60s
	Timeout       time.Duration // per attempt; default 30s
	RateLimit     float64       // requests per second across the client; 0 = unlimited
	Burst         int           // default: max(1, RateLimit)
	Concurrency   int           // parallel workers in ForEach; default 8
	PageSize      int           // list page size, 1..100; default 100
	// MaxPages is the most pages any one list may take (DefaultMaxPages
	// when 0): past it the list fails with ErrPageCeiling instead of
	// following a cursor that never ends.
	MaxPages int

	DryRun bool
	Logger *slog.Logger // default: discard
	// OnRetry, when set, hears of every retry before the SDK waits for it
	// (the CLI prints it on a terminal).
	OnRetry func(RetryNotice)

	// HTTPClient overrides the transport, e.g. for tests.
	HTTPClient *http.Client

	// Refresh, when set, is asked for the current admin key when the API
	// answers 401 (e.g. re-reading it from Secrets Manager after a
	// rotation); if it differs, the request is retried once with it and the
	// client keeps it (see reauthenticate).
	Refresh func(ctx context.Context) (key logging.Secret, keyID string, err error)
}

// Client talks to the Admin API. It is safe for concurrent use.
type Client struct {
	sdk  openai.Client
	org  *openai.AdminOrganizationService
	opts Options
	log  *slog.Logger

	requests  atomic.Int64
	attempts  atomic.Int64
	mutations atomic.Int64

	mu      sync.Mutex
	changes []Change

	auth      atomic.Pointer[credential]
	refreshMu sync.Mutex
}

// New builds a client.
func New(opts Options) (*Client, error) {
	if opts.AdminKey == "" {
		return nil, errors.New("admin client: no admin key configured")
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "https://api.openai.com/v1"
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 6
	} else if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.MaxRetryDelay <= 0 {
		opts.MaxRetryDelay = 60 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.PageSize <= 0 || opts.PageSize > 100 {
		opts.PageSize = 100
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	if opts.Logger == nil {
		opts.Logger = logging.Discard()
	}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		// The default transport keeps only 2 idle connections per host, which
		// would make concurrent workers reconnect on every request.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 4 * opts.Concurrency
		httpClient = &http.Client{Transport: tr}
	}

	c := &Client{opts: opts, log: opts.Logger}
	c.auth.Store(&credential{key: opts.AdminKey, id: opts.SelfKeyID})
	var limiter *rate.Limiter
	if opts.RateLimit > 0 {
		burst := opts.Burst
		if burst <= 0 {
			burst = max(1, int(opts.RateLimit))
		}
		limiter = rate.NewLimiter(rate.Limit(opts.RateLimit), burst)
	}

	c.sdk = openai.NewClient(
		option.WithBaseURL(opts.BaseURL),
		option.WithAdminAPIKey(opts.AdminKey.Reveal()),
		// Never pick up an inference key from the environment.
		option.WithAPIKey(""),
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(opts.MaxRetries),
		option.WithMaxRetryDelay(opts.MaxRetryDelay),
		option.WithRequestTimeout(opts.Timeout),
		option.WithMiddleware(c.notifyRetry, c.countAttempts, c.refuseMutationsInDryRun, limitRate(limiter), c.reauthenticate),
	)
	c.org = &c.sdk.Admin.Organization
	return c, nil
}

// WithAdminKey returns a client like c that authenticates with another key
// (e.g. a freshly minted one under test), sharing nothing mutable with c.
func (c *Client) WithAdminKey(key logging.Secret, keyID string) (*Client, error) {
	opts := c.opts
	opts.AdminKey, opts.SelfKeyID = key, keyID
	// A 401 for this key is an answer about this key, never a reason to
	// switch to another.
	opts.Refresh = nil
	return New(opts)
}

// DryRun reports whether mutating calls are recorded instead of sent.
func (c *Client) DryRun() bool { return c.opts.DryRun }

// Concurrency is the configured number of parallel workers.
func (c *Client) Concurrency() int { return c.opts.Concurrency }

// Stats count what the client sent.
type Stats struct {
	Requests  int64 // logical calls (first attempts)
	Attempts  int64 // HTTP attempts, retries included
	Mutations int64 // mutating calls sent (not dry-run records)
}

// Stats returns counters since the client was made.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Attempts: c.attempts.Load(), Mutations: c.mutations.Load()}
}

func (c *Client) countAttempts(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	c.attempts.Add(1)
	if n := req.Header.Get("X-Stainless-Retry-Count"); n == "" || n == "0" {
		c.requests.Add(1)
	}
	return next(req)
}

// refuseMutationsInDryRun is the last line of defence of the dry run: even a
// code path that forgot to check DryRun cannot send a change.
func (c *Client) refuseMutationsInDryRun(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	if c.opts.DryRun && req.Method != http.MethodGet {
		return nil, fmt.Errorf("dry run: refusing to send %s %s", req.Method, req.URL.Path)
	}
	return next(req)
}

func limitRate(l *rate.Limiter) option.Middleware {
	return func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		if l != nil {
			if err := l.Wait(req.Context()); err != nil {
				return nil, fmt.Errorf("rate limiter: %w", err)
			}
		}
		return next(req)
	}
}

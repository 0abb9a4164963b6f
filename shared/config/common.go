package config

import (
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = "https://api.openai.com/v1"

// Common is the configuration every function shares (docs/architecture.md).
type Common struct {
	BaseURL           string
	AdminKey          logging.Secret // set for local runs
	AdminKeySecretARN string         // set in Lambda
	DryRun            bool
	MaxConcurrency    int
	RateLimit         float64 // requests per second, 0 = unlimited
	HTTPTimeout       time.Duration
	MaxRetries        int
	MaxRetryDelay     time.Duration
	LogLevel          slog.Level
	SummaryBus        string
	// OrgID is the OpenAI organization the deployment looks after; every
	// run summary names it.
	OrgID string
	// ReportBucket receives every run's full report (JSON and CSV) under
	// ReportPrefix; empty: the bounded summary only.
	ReportBucket string
	ReportPrefix string
	Rules        guard.Rules
	MaxDeletions int
}

// InLambda reports whether lookup is a Lambda environment: Lambda sets
// AWS_LAMBDA_FUNCTION_NAME, and the Runtime API address for custom runtimes.
func InLambda(lookup Lookup) bool {
	for _, name := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_RUNTIME_API"} {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// isLoopback reports a host name or address that never leaves the host.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ReadCommon reads the shared variables; check r.Err() afterwards.
func ReadCommon(r *Reader) Common {
	c := Common{
		BaseURL:           r.String("OPENAI_BASE_URL", DefaultBaseURL),
		AdminKey:          logging.Secret(r.String("OPENAI_ADMIN_KEY", "")),
		AdminKeySecretARN: r.String("OPENAI_ADMIN_KEY_SECRET_ARN", ""),
		DryRun:            r.Bool("ORGWARDEN_DRY_RUN", false),
		MaxConcurrency:    r.Int("ORGWARDEN_MAX_CONCURRENCY", 8, 1, 256),
		RateLimit:         r.Float("ORGWARDEN_RATE_LIMIT", 20, 0, 10000),
		HTTPTimeout:       r.Duration("ORGWARDEN_HTTP_TIMEOUT", 30*time.Second, time.Second, 15*time.Minute),
		MaxRetries:        r.Int("ORGWARDEN_MAX_RETRIES", 6, 0, 50),
		MaxRetryDelay:     r.Duration("ORGWARDEN_MAX_RETRY_DELAY", 60*time.Second, 0, 15*time.Minute),
		SummaryBus:        r.String("ORGWARDEN_SUMMARY_BUS", ""),
		OrgID:             r.String("ORGWARDEN_ORG_ID", ""),
		ReportBucket:      r.String("ORGWARDEN_REPORT_BUCKET", ""),
		ReportPrefix:      r.String("ORGWARDEN_REPORT_PREFIX", "orgwarden-reports/"),
		MaxDeletions:      r.Int("ORGWARDEN_MAX_DELETIONS", 25, 0, 1_000_000),
		Rules: guard.Rules{
			Protection: guard.Protection{
				Emails:   r.List("ORGWARDEN_PROTECTED_EMAILS"),
				Domains:  r.List("ORGWARDEN_PROTECTED_DOMAINS"),
				IDs:      r.List("ORGWARDEN_PROTECTED_IDS"),
				Names:    r.List("ORGWARDEN_PROTECTED_NAMES"),
				Projects: r.List("ORGWARDEN_PROTECTED_PROJECTS"),
			},
			AllowOwners: r.Bool("ORGWARDEN_ALLOW_OWNERS", false),
		},
	}
	level, err := logging.ParseLevel(r.String("ORGWARDEN_LOG_LEVEL", "info"))
	if err != nil {
		r.Fail("ORGWARDEN_LOG_LEVEL", "%v", err)
	}
	c.LogLevel = level

	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		r.Fail("OPENAI_BASE_URL", "%q is not an http(s) URL", c.BaseURL)
	} else if u.Scheme == "http" && InLambda(r.lookup) && !isLoopback(u.Hostname()) {
		// In Lambda the admin key would cross the network in clear text:
		// plain http is for an emulator on the same host only.
		r.Fail("OPENAI_BASE_URL", "%q: plain http is refused in Lambda except to loopback; use https", c.BaseURL)
	}
	r.checkNames()
	switch {
	case c.AdminKey == "" && c.AdminKeySecretARN == "":
		r.Fail("OPENAI_ADMIN_KEY", "set OPENAI_ADMIN_KEY or OPENAI_ADMIN_KEY_SECRET_ARN")
	case c.AdminKey != "" && c.AdminKeySecretARN != "":
		r.Fail("OPENAI_ADMIN_KEY", "set only one of OPENAI_ADMIN_KEY and OPENAI_ADMIN_KEY_SECRET_ARN")
	}
	return c
}

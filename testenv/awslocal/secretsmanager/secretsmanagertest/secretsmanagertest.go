// Package secretsmanagertest starts the local secretsmanager emulator for a test and closes it
// when the test ends, as net/http/httptest stands beside net/http: the
// emulator package itself links no "testing", so the demo and the command
// line that serve it do not either.
package secretsmanagertest

import (
	"testing"

	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/loopbacktest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager"
)

// New starts a Server for a test and closes it when the test ends.
func New(tb testing.TB, opts ...secretsmanager.Option) *secretsmanager.Server {
	tb.Helper()
	return loopbacktest.ForTest(tb, func() (*secretsmanager.Server, error) { return secretsmanager.Start(opts...) })
}

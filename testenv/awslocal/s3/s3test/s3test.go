// Package s3test starts the local s3 emulator for a test and closes it
// when the test ends, as net/http/httptest stands beside net/http: the
// emulator package itself links no "testing", so the demo and the command
// line that serve it do not either.
package s3test

import (
	"testing"

	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/loopbacktest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3"
)

// New starts a Server for a test and closes it when the test ends.
func New(tb testing.TB) *s3.Server {
	tb.Helper()
	return loopbacktest.ForTest(tb, func() (*s3.Server, error) { return s3.Start() })
}

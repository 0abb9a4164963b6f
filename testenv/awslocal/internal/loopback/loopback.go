// Package loopback serves an http.Handler on a free 127.0.0.1 port and
// reports a listen failure as an error, where httptest.NewServer would panic:
// the demo and the end-to-end suite start emulators outside of tests.
package loopback

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Serve starts h on 127.0.0.1 with an ephemeral port.
func Serve(h http.Handler) (*httptest.Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	return srv, nil
}

// ForTest starts a server for a test with start, fails the test if it
// cannot, and closes the server when the test ends: the New of every
// emulator here, written once.
func ForTest[S interface{ Close() }](tb testing.TB, start func() (S, error)) S {
	tb.Helper()
	s, err := start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

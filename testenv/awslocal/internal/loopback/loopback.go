// Package loopback serves an http.Handler on a free 127.0.0.1 port and
// reports a listen failure as an error, where httptest.NewServer would panic:
// the demo and the end-to-end suite start emulators outside of tests.
package loopback

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
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

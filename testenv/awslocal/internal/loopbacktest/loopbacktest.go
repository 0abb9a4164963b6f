// Package loopbacktest holds the part of every emulator's test starter that
// needs package testing, so the emulators themselves do not link it.
package loopbacktest

import "testing"

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

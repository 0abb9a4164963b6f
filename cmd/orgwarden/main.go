// Command orgwarden runs orgwarden's jobs outside Lambda: it serves the
// Admin API emulator, runs a job once, invokes a function's exact Lambda
// handler on an event file, verifies an audit export, restores an
// offboarded person, and runs the whole demo.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/orgwarden/orgwarden/shared/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := newCLI(os.Stdout, os.Stderr, config.OSEnv())
	c.stdin, c.terminal = os.Stdin, isTerminal(os.Stdin) && isTerminal(os.Stderr)
	os.Exit(c.run(ctx, os.Args[1:]))
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

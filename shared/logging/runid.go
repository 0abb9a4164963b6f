package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

type runIDKey struct{}

// NewRunID returns a sortable, unique id for one run of a job: the UTC time
// to the second, then random hex, e.g. 20261123T101500Z-3f9a1c2b.
func NewRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// WithRunID returns a context whose log records carry run_id.
func WithRunID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, runIDKey{}, id)
}

// RunID returns the run id stored in ctx, or "".
func RunID(ctx context.Context) string {
	id, _ := ctx.Value(runIDKey{}).(string)
	return id
}

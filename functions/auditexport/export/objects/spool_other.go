//go:build !unix

package objects

import (
	"os"
	"time"
)

// lockSpool is a no-op where flock does not exist.
func lockSpool(*os.File) error { return nil }

// ownerGone falls back on age where ownership cannot be checked: a spool
// file untouched for an hour belongs to no running export.
func ownerGone(path string) bool {
	st, err := os.Stat(path)
	return err == nil && time.Since(st.ModTime()) > time.Hour
}

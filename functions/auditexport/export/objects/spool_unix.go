//go:build unix

package objects

import (
	"os"
	"syscall"
)

// lockSpool marks a spool file as owned by this process for as long as the
// file stays open: an exclusive flock, which the kernel drops when the
// process dies, however it dies (kill -9 and OOM included).
func lockSpool(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// ownerGone reports whether no live writer holds the spool file's lock.
func ownerGone(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false // held: its writer is alive (in this process or another)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}

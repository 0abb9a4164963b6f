// Package ids mints the random identifiers AWS services hand out: UUIDs for
// request, message and version ids, and short alphanumeric suffixes.
package ids

import (
	"crypto/rand"
	"fmt"
)

// UUID returns a random (version 4) UUID in its canonical text form.
func UUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Alnum returns n random letters and digits, as in the six-character suffix
// Secrets Manager appends to secret ARNs.
func Alnum(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

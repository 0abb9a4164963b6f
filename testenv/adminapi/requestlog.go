package adminapi

import (
	"strings"
	"sync"
	"time"
)

// Request is one request as the emulator saw it. It holds no key material:
// KeyID is the id of the admin key that authenticated, not its value.
type Request struct {
	Time     time.Time // emulator clock
	Method   string
	Path     string // as received, with /v1
	Query    string // raw query string
	Status   int    // 0 when the connection was dropped
	Mutating bool   // any method but GET and HEAD
	Fault    string // "" or "429", "500", "503", "reset", or a rule's status
	// Committed marks an after-commit fault whose request was applied.
	Committed bool
	KeyID     string
}

// requestLog keeps requests in arrival order. An entry is complete before
// the client sees the answer (or the dropped connection), so a test that
// reads the log after a call returns sees that call.
type requestLog struct {
	mu   sync.Mutex
	reqs []Request
	base int // entries dropped by ResetRequests, so indexes stay valid
}

func (l *requestLog) begin(r Request) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r)
	return l.base + len(l.reqs) - 1
}

func (l *requestLog) update(i int, f func(*Request)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if j := i - l.base; j >= 0 && j < len(l.reqs) {
		f(&l.reqs[j])
	}
}

// Requests returns every request since New or ResetRequests, in arrival order.
func (e *Emulator) Requests() []Request {
	e.log.mu.Lock()
	defer e.log.mu.Unlock()
	return append([]Request(nil), e.log.reqs...)
}

// ResetRequests empties the request log.
func (e *Emulator) ResetRequests() {
	e.log.mu.Lock()
	defer e.log.mu.Unlock()
	e.log.base += len(e.log.reqs)
	e.log.reqs = nil
}

// MutatingRequests returns the POST and DELETE requests received, faulted or not.
func (e *Emulator) MutatingRequests() []Request {
	var out []Request
	for _, r := range e.Requests() {
		if r.Mutating {
			out = append(out, r)
		}
	}
	return out
}

// CountRequests counts requests by method ("" for any) and path pattern
// (as Rule.PathPattern: path.Match below /v1, "" for any).
func (e *Emulator) CountRequests(method, pathPattern string) int {
	n := 0
	for _, r := range e.Requests() {
		if (method == "" || strings.EqualFold(method, r.Method)) && matchPath(pathPattern, strings.TrimPrefix(r.Path, "/v1")) {
			n++
		}
	}
	return n
}

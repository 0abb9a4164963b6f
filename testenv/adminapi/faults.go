package adminapi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults are random failures, decided per request from a seeded generator
// before the request takes effect: a faulted mutation changes nothing
// (except resets with ResetAfterCommit). Rates are shares of all requests.
type Faults struct {
	RateLimited float64 // 429 with Retry-After and Retry-After-Ms
	ServerError float64 // 500
	Unavailable float64 // 503
	Reset       float64 // the connection is dropped without a response
	// ResetAfterCommit applies a mutating request before dropping its
	// connection, so the client cannot know whether it happened.
	ResetAfterCommit bool
	// Latency is added to every request.
	Latency time.Duration
	// RetryAfter is what 429s ask for: Retry-After in whole seconds (at least
	// 1, as the spec requires) and Retry-After-Ms exactly. Default 1s.
	RetryAfter time.Duration
	// Seed drives the decisions; 0 means Options.RandomSeed.
	Seed uint64
}

// DefaultRetryAfter is the wait 429s advertise unless Faults say otherwise.
const DefaultRetryAfter = time.Second

func (f Faults) validate() error {
	sum := 0.0
	for name, r := range map[string]float64{"429": f.RateLimited, "500": f.ServerError, "503": f.Unavailable, "reset": f.Reset} {
		if r < 0 || r > 1 || math.IsNaN(r) {
			return fmt.Errorf("fault rate %s=%v is not between 0 and 1", name, r)
		}
		sum += r
	}
	if sum > 1 {
		return fmt.Errorf("fault rates add up to %v, more than 1", sum)
	}
	if f.Latency < 0 || f.RetryAfter < 0 {
		return fmt.Errorf("fault durations must not be negative")
	}
	return nil
}

// ParseFaults reads "429=0.1,500=0.05,503=0.01,reset=0.02,latency=20ms,retry-after=20ms".
// Also: reset-after-commit=true, seed=<n>. Empty means no faults.
func ParseFaults(s string) (Faults, error) {
	var f Faults
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Faults{}, fmt.Errorf("parse faults: %q is not key=value", part)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		var err error
		switch k {
		case "429":
			f.RateLimited, err = strconv.ParseFloat(v, 64)
		case "500":
			f.ServerError, err = strconv.ParseFloat(v, 64)
		case "503":
			f.Unavailable, err = strconv.ParseFloat(v, 64)
		case "reset":
			f.Reset, err = strconv.ParseFloat(v, 64)
		case "latency":
			f.Latency, err = time.ParseDuration(v)
		case "retry-after":
			f.RetryAfter, err = time.ParseDuration(v)
		case "reset-after-commit":
			f.ResetAfterCommit, err = strconv.ParseBool(v)
		case "seed":
			f.Seed, err = strconv.ParseUint(v, 10, 64)
		default:
			return Faults{}, fmt.Errorf("parse faults: unknown key %q", k)
		}
		if err != nil {
			return Faults{}, fmt.Errorf("parse faults: %s: %w", k, err)
		}
	}
	if err := f.validate(); err != nil {
		return Faults{}, fmt.Errorf("parse faults: %w", err)
	}
	return f, nil
}

// String renders f in ParseFaults syntax.
func (f Faults) String() string {
	var parts []string
	add := func(k string, r float64) {
		if r > 0 {
			parts = append(parts, k+"="+strconv.FormatFloat(r, 'g', -1, 64))
		}
	}
	add("429", f.RateLimited)
	add("500", f.ServerError)
	add("503", f.Unavailable)
	add("reset", f.Reset)
	if f.Latency > 0 {
		parts = append(parts, "latency="+f.Latency.String())
	}
	if f.RetryAfter > 0 {
		parts = append(parts, "retry-after="+f.RetryAfter.String())
	}
	if f.ResetAfterCommit {
		parts = append(parts, "reset-after-commit=true")
	}
	if f.Seed != 0 {
		parts = append(parts, "seed="+strconv.FormatUint(f.Seed, 10))
	}
	return strings.Join(parts, ",")
}

// Rule makes the next Count requests matching Method and PathPattern fail.
type Rule struct {
	Method string // empty matches any method
	// PathPattern is a path.Match pattern over the path below /v1, for
	// example "/organization/projects/*/api_keys/*". A leading /v1 is
	// ignored. Empty matches any path.
	PathPattern string
	// Status is the HTTP status to answer (429, 500, 503, or any 4xx/5xx);
	// ignored when Reset is set.
	Status int
	Reset  bool // drop the connection instead of answering
	// AfterCommit applies the request first, then fails it: the change
	// happens, the client sees an error or a dropped connection.
	AfterCommit bool
	Count       int           // how many requests fail; 0 means 1
	RetryAfter  time.Duration // for 429; 0 means the Faults' value
}

type faultKind int

const (
	faultNone faultKind = iota
	faultStatus
	faultReset
)

type decision struct {
	kind        faultKind
	status      int
	retryAfter  time.Duration
	afterCommit bool
	latency     time.Duration
}

func (d decision) name() string {
	if d.kind == faultReset {
		return "reset"
	}
	return strconv.Itoa(d.status)
}

type pendingRule struct {
	Rule
	left int
}

type faultState struct {
	mu    sync.Mutex
	cfg   Faults
	base  uint64
	rng   *rand.Rand
	rules []*pendingRule
	pages []*pageRule
}

func newFaultState(f Faults, randomSeed uint64) *faultState {
	s := &faultState{base: randomSeed}
	s.set(f)
	return s
}

func (s *faultState) set(f Faults) {
	s.cfg = f
	seed := f.Seed
	if seed == 0 {
		seed = s.base
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0xFA017))
}

// SetFaults replaces the random faults and restarts their generator from
// their seed. Targeted rules are kept.
func (e *Emulator) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("set faults: %w", err)
	}
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.set(f)
	return nil
}

// Faults returns the random faults in force.
func (e *Emulator) Faults() Faults {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	return e.faults.cfg
}

// InjectFault queues a targeted rule. Rules apply in the order given, before random faults.
func (e *Emulator) InjectFault(r Rule) {
	if r.Count <= 0 {
		r.Count = 1
	}
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.rules = append(e.faults.rules, &pendingRule{Rule: r, left: r.Count})
}

// ClearFaults removes pending rules, page faults and random faults.
func (e *Emulator) ClearFaults() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.rules = nil
	e.faults.pages = nil
	e.faults.set(Faults{Seed: e.faults.cfg.Seed})
}

func matchPath(pattern, p string) bool {
	if pattern == "" {
		return true
	}
	pattern = strings.TrimPrefix(pattern, "/v1")
	ok, err := path.Match(pattern, p)
	return err == nil && ok
}

// decide picks the fault for one request. p is the path below /v1.
func (s *faultState) decide(method, p string, mutating bool) decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.cfg
	d := decision{latency: cfg.Latency, retryAfter: cfg.RetryAfter}
	if d.retryAfter <= 0 {
		d.retryAfter = DefaultRetryAfter
	}
	// Draw for every request, so the random sequence does not depend on rules.
	u := s.rng.Float64()
	for i, r := range s.rules {
		if (r.Method != "" && !strings.EqualFold(r.Method, method)) || !matchPath(r.PathPattern, p) {
			continue
		}
		r.left--
		if r.left <= 0 {
			s.rules = append(s.rules[:i], s.rules[i+1:]...)
		}
		d.kind, d.status, d.afterCommit = faultStatus, r.Status, r.AfterCommit
		if r.Reset {
			d.kind = faultReset
		}
		if r.RetryAfter > 0 {
			d.retryAfter = r.RetryAfter
		}
		return d
	}
	switch {
	case u < cfg.RateLimited:
		d.kind, d.status = faultStatus, http.StatusTooManyRequests
	case u < cfg.RateLimited+cfg.ServerError:
		d.kind, d.status = faultStatus, http.StatusInternalServerError
	case u < cfg.RateLimited+cfg.ServerError+cfg.Unavailable:
		d.kind, d.status = faultStatus, http.StatusServiceUnavailable
	case u < cfg.RateLimited+cfg.ServerError+cfg.Unavailable+cfg.Reset:
		d.kind = faultReset
		d.afterCommit = cfg.ResetAfterCommit && mutating
	}
	return d
}

// apply answers with the fault's status.
func (d decision) apply(w http.ResponseWriter) {
	e := &apiError{status: d.status, typ: "server_error"}
	switch {
	case d.status == http.StatusTooManyRequests:
		secs := int64(math.Ceil(d.retryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		w.Header().Set("Retry-After-Ms", strconv.FormatInt(d.retryAfter.Milliseconds(), 10))
		e.typ, e.code = "requests", "rate_limit_exceeded"
		e.message = "Rate limit reached for admin API requests. Please try again later."
	case d.status == http.StatusServiceUnavailable:
		e.message = "The server is overloaded or not ready yet."
	case d.status >= 500:
		e.message = "The server had an error while processing your request. Sorry about that!"
	default:
		e.typ = "invalid_request_error"
		e.message = fmt.Sprintf("Injected %d failure.", d.status)
	}
	writeError(w, e)
}

// reset drops the connection with a TCP RST where possible.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 or a wrapper that cannot hijack: the server aborts the stream.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

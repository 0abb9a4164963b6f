// Package runtimeapi is a small, faithful implementation of the AWS Lambda
// Runtime API (version 2018-06-01) for running real bootstrap binaries in
// tests, the demo and the end-to-end suite, where AWS's Runtime Interface
// Emulator is not available.
//
// A Server is one execution environment: it hands invocations to the
// runtime through GET /runtime/invocation/next, one at a time, and takes the
// answer from /response or /error. Invoke queues an invocation and waits for
// that answer, reporting a timeout when the function overruns its deadline.
// StartProcess runs a binary as the runtime with the environment Lambda
// sets; Function adds Lambda's lifecycle on top (cold start on first use,
// a fresh environment after a timeout or a crash).
//
// Documented at https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html.
// Status codes follow the documentation and AWS's emulator: 202 for accepted
// posts, 400 (InvalidRequestID) for an unknown or already answered request
// id, 403 (InvalidStateTransition) for a call the runtime's state does not
// allow, 413 (RequestEntityTooLarge) for a response over 6 MB.
package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

const (
	// MaxResponseSize is Lambda's limit for a synchronous response payload.
	MaxResponseSize = 6 * 1024 * 1024
	// DefaultTimeout is Lambda's default function timeout.
	DefaultTimeout = 3 * time.Second

	apiPrefix = "/2018-06-01/runtime"

	// Error types Lambda reports to the invoker.
	ErrorTypeTimeout          = "Sandbox.Timedout"
	ErrorTypeExit             = "Runtime.ExitError"
	ErrorTypeResponseTooLarge = "Function.ResponseSizeTooLarge"

	accountID = "000000000000"
	region    = "us-east-1"
)

// ErrClosed is returned by Invoke once the server is closed.
var ErrClosed = errors.New("runtime api server closed")

// InvokeOptions are the per-invocation values Lambda passes to the runtime.
type InvokeOptions struct {
	// RequestID defaults to a random UUID.
	RequestID string
	// Timeout defaults to the server's function timeout.
	Timeout time.Duration
	// FunctionARN defaults to the ARN of the server's function name.
	FunctionARN string
	// TraceID defaults to a fresh X-Ray trace header.
	TraceID string
	// ClientContext and CognitoIdentity are JSON documents, sent only when set.
	ClientContext   string
	CognitoIdentity string
}

// Result is what the invoker of a function gets back.
type Result struct {
	RequestID string
	// Payload is the response, or for a failed invocation the error
	// document ({"errorMessage", "errorType", ...}) Lambda returns.
	Payload []byte
	// ErrorType and ErrorMessage are set when the invocation failed.
	ErrorType    string
	ErrorMessage string
	// TimedOut is set when the function did not answer by its deadline.
	TimedOut bool
	// Duration runs from the runtime receiving the event to its answer.
	Duration time.Duration
	// InitDuration is set by Function on a cold start: from the start of
	// the process to its first /next.
	InitDuration time.Duration
}

// Failed reports whether the invocation ended in an error.
func (r Result) Failed() bool { return r.ErrorType != "" }

// ErrorDoc is an error as runtimes post it to /error and /init/error.
type ErrorDoc struct {
	Type    string
	Message string
	// Body is the document as posted.
	Body []byte
}

// Config configures a Server.
type Config struct {
	// FunctionName is reported in the default function ARN; default "function".
	FunctionName string
	// Timeout is the function timeout; default DefaultTimeout.
	Timeout time.Duration
	// Logger receives protocol events at debug level; nil discards.
	Logger *slog.Logger
}

type invocation struct {
	id      string
	payload []byte
	opts    InvokeOptions
	result  chan Result // buffered; receives exactly one Result

	dispatched time.Time
	deadline   time.Time
	timer      *time.Timer
	done       bool
}

// Server is the Runtime API of one execution environment.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	listener net.Listener
	http     *http.Server

	mu        sync.Mutex
	closed    bool
	queue     []*invocation
	current   *invocation
	available chan struct{} // closed and replaced when queue grows or state ends

	// Per environment (one runtime process); reset by newEnvironment.
	generation int
	initDone   bool
	initAt     time.Time
	initSignal chan struct{} // closed on the first /next or when init fails
	initErr    *ErrorDoc
	exitErr    error // the runtime exited
	exited     bool
}

// NewServer starts a Runtime API server on a loopback port.
func NewServer(cfg Config) (*Server, error) {
	if cfg.FunctionName == "" {
		cfg.FunctionName = "function"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for runtime api: %w", err)
	}
	s := &Server{
		cfg: cfg, logger: logger, listener: l,
		available: make(chan struct{}), initSignal: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", s.next)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", s.response)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", s.invocationError)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", s.initError)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(l) }()
	return s, nil
}

// Addr is the host:port runtimes find in AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// FunctionARN is the default ARN invocations report.
func (s *Server) FunctionARN() string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, accountID, s.cfg.FunctionName)
}

// InitError returns the error the runtime posted to /init/error in the
// current environment, if any.
func (s *Server) InitError() (ErrorDoc, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initErr == nil {
		return ErrorDoc{}, false
	}
	return *s.initErr, true
}

// Close stops the server and fails invocations still waiting.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	pending := s.queue
	if s.current != nil {
		pending = append(pending, s.current)
	}
	s.queue, s.current = nil, nil
	for _, inv := range pending {
		if !inv.done {
			inv.done = true
			if inv.timer != nil {
				inv.timer.Stop()
			}
			close(inv.result) // Invoke reports ErrClosed
		}
	}
	s.signalLocked()
	s.mu.Unlock()
	if err := s.http.Close(); err != nil {
		return fmt.Errorf("close runtime api: %w", err)
	}
	return nil
}

// Invoke queues an invocation and waits for the function's answer. The
// error is for the harness (ctx done, server closed); a function that fails,
// times out or crashes yields a Result with ErrorType set.
func (s *Server) Invoke(ctx context.Context, payload []byte, opts InvokeOptions) (Result, error) {
	res, _, err := s.invoke(ctx, payload, opts)
	return res, err
}

// invoke is Invoke that also reports whether the runtime ever received the
// event, so that Function can move an undelivered one to a new environment.
func (s *Server) invoke(ctx context.Context, payload []byte, opts InvokeOptions) (Result, bool, error) {
	if opts.RequestID == "" {
		opts.RequestID = newUUID()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = s.cfg.Timeout
	}
	if opts.FunctionARN == "" {
		opts.FunctionARN = s.FunctionARN()
	}
	if opts.TraceID == "" {
		opts.TraceID = newTraceID()
	}
	inv := &invocation{id: opts.RequestID, payload: payload, opts: opts, result: make(chan Result, 1)}

	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return Result{}, false, ErrClosed
	case s.initErr != nil || s.exited:
		res := s.environmentFailureLocked(inv.id)
		s.mu.Unlock()
		return res, false, nil
	}
	s.queue = append(s.queue, inv)
	s.signalLocked()
	s.mu.Unlock()

	select {
	case res, ok := <-inv.result:
		if !ok {
			return Result{}, false, ErrClosed
		}
		s.mu.Lock()
		delivered := !inv.dispatched.IsZero()
		s.mu.Unlock()
		return res, delivered, nil
	case <-ctx.Done():
		s.mu.Lock()
		s.queue = slices.DeleteFunc(s.queue, func(x *invocation) bool { return x == inv })
		s.mu.Unlock()
		return Result{}, false, fmt.Errorf("invoke %s: %w", inv.id, ctx.Err())
	}
}

// signalInitLocked ends the wait for init: the runtime is ready, reported
// an init error, or exited. Only the first of these closes the channel.
func (s *Server) signalInitLocked() {
	select {
	case <-s.initSignal:
	default:
		close(s.initSignal)
	}
}

func (s *Server) signalLocked() {
	close(s.available)
	s.available = make(chan struct{})
}

// newEnvironment starts a fresh execution environment for a new runtime
// process and returns its generation and the channel that closes when its
// init ends.
func (s *Server) newEnvironment() (int, <-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, nil, ErrClosed
	}
	if s.generation > 0 && !s.exited {
		return 0, nil, errors.New("a runtime process is still running in this environment")
	}
	s.generation++
	s.initDone, s.initAt, s.initErr, s.exitErr, s.exited = false, time.Time{}, nil, nil, false
	s.initSignal = make(chan struct{})
	return s.generation, s.initSignal, nil
}

// runtimeExited records that the process of generation gen ended, failing
// the invocation in flight and those queued, as Lambda does.
func (s *Server) runtimeExited(gen int, err error) {
	s.mu.Lock()
	if gen != s.generation || s.exited {
		s.mu.Unlock()
		return
	}
	s.exited = true
	s.exitErr = err
	s.signalInitLocked()
	var failed []*invocation
	if s.current != nil && !s.current.done {
		failed = append(failed, s.current)
	}
	failed = append(failed, s.queue...)
	s.queue = nil
	for _, inv := range failed {
		s.finishLocked(inv, s.environmentFailureLocked(inv.id))
	}
	s.mu.Unlock()
	s.logger.Debug("runtime exited", "generation", gen, "error", err)
}

// environmentFailureLocked is the Result of an invocation that meets a
// failed environment: the posted init error, or the runtime's exit.
func (s *Server) environmentFailureLocked(id string) Result {
	if s.initErr != nil {
		return Result{RequestID: id, ErrorType: s.initErr.Type, ErrorMessage: s.initErr.Message, Payload: s.initErr.Body}
	}
	msg := fmt.Sprintf("RequestId: %s Error: %s", id, exitReason(s.exitErr))
	return Result{RequestID: id, ErrorType: ErrorTypeExit, ErrorMessage: msg, Payload: errorPayload(ErrorTypeExit, msg)}
}

// exitReason is how Lambda words a runtime's exit.
func exitReason(err error) string {
	if err == nil {
		return "Runtime exited without providing a reason"
	}
	return "Runtime exited with error: " + err.Error()
}

// initOutcome reports how the init of generation gen ended.
func (s *Server) initOutcome(gen int) (at time.Time, initErr *ErrorDoc, exited bool, exitErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.generation {
		return time.Time{}, nil, true, errors.New("environment replaced")
	}
	return s.initAt, s.initErr, s.exited, s.exitErr
}

// finishLocked delivers res once.
func (s *Server) finishLocked(inv *invocation, res Result) {
	if inv.done {
		return
	}
	inv.done = true
	if inv.timer != nil {
		inv.timer.Stop()
	}
	if !inv.dispatched.IsZero() {
		res.Duration = time.Since(inv.dispatched)
	}
	res.RequestID = inv.id
	if s.current == inv {
		s.current = nil
	}
	inv.result <- res
}

// GET /runtime/invocation/next
func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.initErr != nil || (s.current != nil && !s.current.done) {
		state := "invoking"
		if s.initErr != nil {
			state = "init error"
		}
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "InvalidStateTransition", fmt.Sprintf("State transition from %s to ready is not allowed", state))
		return
	}
	if !s.initDone {
		s.initDone, s.initAt = true, time.Now()
		s.signalInitLocked()
	}
	s.mu.Unlock()

	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			writeError(w, http.StatusInternalServerError, "InternalServerError", "runtime api is shutting down")
			return
		}
		if len(s.queue) > 0 {
			inv := s.queue[0]
			s.queue = s.queue[1:]
			s.dispatchLocked(inv)
			s.mu.Unlock()
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.opts.FunctionARN)
			h.Set("Lambda-Runtime-Trace-Id", inv.opts.TraceID)
			if inv.opts.ClientContext != "" {
				h.Set("Lambda-Runtime-Client-Context", inv.opts.ClientContext)
			}
			if inv.opts.CognitoIdentity != "" {
				h.Set("Lambda-Runtime-Cognito-Identity", inv.opts.CognitoIdentity)
			}
			h.Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(inv.payload)
			s.logger.Debug("invocation dispatched", "request_id", inv.id)
			return
		}
		wait := s.available
		s.mu.Unlock()
		select {
		case <-wait:
		case <-r.Context().Done():
			return // the runtime went away while waiting
		}
	}
}

func (s *Server) dispatchLocked(inv *invocation) {
	inv.dispatched = time.Now()
	inv.deadline = inv.dispatched.Add(inv.opts.Timeout)
	s.current = inv
	timeout := inv.opts.Timeout
	inv.timer = time.AfterFunc(timeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		msg := fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, timeout.Seconds())
		s.finishLocked(inv, Result{TimedOut: true, ErrorType: ErrorTypeTimeout, ErrorMessage: msg, Payload: errorPayload(ErrorTypeTimeout, msg)})
	})
}

// inFlight resolves the request id of a /response or /error post.
func (s *Server) inFlight(w http.ResponseWriter, id string) (*invocation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.initDone {
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "State transition from initializing to responding is not allowed")
		return nil, false
	}
	if s.current == nil || s.current.id != id || s.current.done {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return nil, false
	}
	return s.current, true
}

// POST /runtime/invocation/{id}/response
func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	inv, ok := s.inFlight(w, r.PathValue("id"))
	if !ok {
		return
	}
	body, size, ok := readBody(w, r)
	if !ok {
		return
	}
	var res Result
	switch {
	case size > MaxResponseSize:
		msg := fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", size, MaxResponseSize)
		res = Result{ErrorType: ErrorTypeResponseTooLarge, ErrorMessage: msg, Payload: errorPayload(ErrorTypeResponseTooLarge, msg)}
	case r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		// The runtime failed while streaming its response and said so in trailers.
		doc, _ := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		res = errorResult(r.Trailer.Get("Lambda-Runtime-Function-Error-Type"), doc)
	default:
		res = Result{Payload: body}
	}

	if !s.answer(w, inv, res) {
		return
	}
	if size > MaxResponseSize {
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxResponseSize))
		return
	}
	writeAccepted(w)
}

// POST /runtime/invocation/{id}/error
func (s *Server) invocationError(w http.ResponseWriter, r *http.Request) {
	inv, ok := s.inFlight(w, r.PathValue("id"))
	if !ok {
		return
	}
	body, _, ok := readBody(w, r)
	if !ok {
		return
	}
	if s.answer(w, inv, errorResult(r.Header.Get("Lambda-Runtime-Function-Error-Type"), body)) {
		writeAccepted(w)
	}
}

// answer delivers res for inv, which inFlight resolved, unless the
// invocation ended (a timeout) while its body was read; then it answers the
// runtime as for an unknown request id and reports false.
func (s *Server) answer(w http.ResponseWriter, inv *invocation, res Result) bool {
	s.mu.Lock()
	late := inv.done
	if !late {
		s.finishLocked(inv, res)
	}
	s.mu.Unlock()
	if late {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
	}
	return !late
}

// POST /runtime/init/error
func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _, ok := readBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if s.initDone || s.initErr != nil {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "State transition from ready to init error is not allowed")
		return
	}
	res := errorResult(r.Header.Get("Lambda-Runtime-Function-Error-Type"), body)
	if res.ErrorType == "" || res.ErrorType == "Unhandled" {
		res.ErrorType = "Runtime.Unknown"
	}
	s.initErr = &ErrorDoc{Type: res.ErrorType, Message: res.ErrorMessage, Body: res.Payload}
	s.signalInitLocked()
	queued := s.queue
	s.queue = nil
	for _, inv := range queued {
		s.finishLocked(inv, s.environmentFailureLocked(inv.id))
	}
	s.mu.Unlock()
	s.logger.Debug("init error", "type", res.ErrorType)
	writeAccepted(w)
}

// errorResult builds the Result of a posted error document. The type comes
// from Lambda-Runtime-Function-Error-Type, else from the document's
// errorType (the Go runtime sets only the latter).
func errorResult(headerType string, body []byte) Result {
	var doc struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	_ = json.Unmarshal(body, &doc)
	typ := headerType
	if typ == "" {
		typ = doc.ErrorType
	}
	if typ == "" {
		typ = "Unhandled"
	}
	return Result{ErrorType: typ, ErrorMessage: doc.ErrorMessage, Payload: body}
}

func errorPayload(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return b
}

// readBody reads a posted document of at most MaxResponseSize bytes (see
// readLimited), answering a truncated request itself.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, int64, bool) {
	body, size, err := readLimited(r.Body, MaxResponseSize)
	if err != nil {
		writeError(w, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		return nil, 0, false
	}
	return body, size, true
}

// readLimited reads at most limit bytes and counts the rest.
func readLimited(r io.Reader, limit int64) ([]byte, int64, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, 0, err
	}
	size := int64(len(body))
	if size > limit {
		rest, err := io.Copy(io.Discard, r)
		if err != nil {
			return nil, 0, err
		}
		return nil, size + rest, nil
	}
	return body, size, nil
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorPayload(typ, msg))
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newTraceID returns an X-Ray trace header as Lambda sends it.
func newTraceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%x;Parent=%x;Sampled=0", time.Now().Unix(), b[:12], b[12:20])
}

package runtimeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// rawRuntime speaks the Runtime API by hand, to reach the states and error
// statuses a well-behaved runtime client never produces.
type rawRuntime struct {
	t    *testing.T
	base string
}

func newRaw(t *testing.T, srv *runtimeapi.Server) rawRuntime {
	return rawRuntime{t: t, base: "http://" + srv.Addr() + "/2018-06-01/runtime"}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r rawRuntime) do(method, path, body string, header map[string]string) reply {
	r.t.Helper()
	req, err := http.NewRequestWithContext(r.t.Context(), method, r.base+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func (r reply) errorType() string {
	var doc struct {
		ErrorType string `json:"errorType"`
	}
	_ = json.Unmarshal(r.body, &doc)
	return doc.ErrorType
}

type outcome struct {
	res runtimeapi.Result
	err error
}

// invokeAsync starts an invocation and returns where its outcome arrives.
func invokeAsync(srv *runtimeapi.Server, ctx context.Context, payload string, opts runtimeapi.InvokeOptions) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := srv.Invoke(ctx, []byte(payload), opts)
		ch <- outcome{res, err}
	}()
	return ch
}

func newServer(t *testing.T, timeout time.Duration) (*runtimeapi.Server, rawRuntime) {
	t.Helper()
	srv, err := runtimeapi.NewServer(runtimeapi.Config{FunctionName: "raw", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, newRaw(t, srv)
}

func TestNextDeliversTheInvocation(t *testing.T) {
	srv, rt := newServer(t, 2*time.Second)
	done := invokeAsync(srv, t.Context(), `{"hello":"world"}`, runtimeapi.InvokeOptions{RequestID: "req-1", ClientContext: `{"custom":{}}`})

	before := time.Now()
	next := rt.do(http.MethodGet, "/invocation/next", "", nil)
	if next.status != http.StatusOK || string(next.body) != `{"hello":"world"}` {
		t.Fatalf("next: %d %q", next.status, next.body)
	}
	h := next.header
	deadline, err := strconv.ParseInt(h.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if err != nil || time.UnixMilli(deadline).Before(before.Add(2*time.Second-time.Millisecond)) || time.UnixMilli(deadline).After(time.Now().Add(2*time.Second)) {
		t.Errorf("Lambda-Runtime-Deadline-Ms %q", h.Get("Lambda-Runtime-Deadline-Ms"))
	}
	if h.Get("Lambda-Runtime-Aws-Request-Id") != "req-1" ||
		h.Get("Lambda-Runtime-Invoked-Function-Arn") != "arn:aws:lambda:us-east-1:000000000000:function:raw" ||
		!strings.HasPrefix(h.Get("Lambda-Runtime-Trace-Id"), "Root=1-") ||
		h.Get("Lambda-Runtime-Client-Context") != `{"custom":{}}` {
		t.Errorf("headers %v", h)
	}
	if _, ok := h["Lambda-Runtime-Cognito-Identity"]; ok {
		t.Error("Lambda-Runtime-Cognito-Identity sent without an identity")
	}

	if r := rt.do(http.MethodPost, "/invocation/req-1/response", `{"ok":true}`, nil); r.status != http.StatusAccepted {
		t.Fatalf("response: %d %s", r.status, r.body)
	}
	out := <-done
	if out.err != nil || string(out.res.Payload) != `{"ok":true}` || out.res.Failed() || out.res.RequestID != "req-1" {
		t.Errorf("invoke: %+v %v", out.res, out.err)
	}
}

func TestProtocolErrorStatuses(t *testing.T) {
	tests := []struct {
		name string
		// ready: a /next has happened; inFlight: an invocation "req" is out.
		ready, inFlight bool
		method, path    string
		body            string
		wantStatus      int
		wantType        string
	}{
		{"response during init", false, false, http.MethodPost, "/invocation/req/response", "{}", http.StatusForbidden, "InvalidStateTransition"},
		{"error during init", false, false, http.MethodPost, "/invocation/req/error", "{}", http.StatusForbidden, "InvalidStateTransition"},
		{"init error after init", true, false, http.MethodPost, "/init/error", "{}", http.StatusForbidden, "InvalidStateTransition"},
		{"next while invoking", true, true, http.MethodGet, "/invocation/next", "", http.StatusForbidden, "InvalidStateTransition"},
		{"unknown request id", true, true, http.MethodPost, "/invocation/other/response", "{}", http.StatusBadRequest, "InvalidRequestID"},
		{"response over 6 MB", true, true, http.MethodPost, "/invocation/req/response", strings.Repeat("x", runtimeapi.MaxResponseSize+1), http.StatusRequestEntityTooLarge, "RequestEntityTooLarge"},
		{"wrong method", true, false, http.MethodGet, "/invocation/req/response", "", http.StatusMethodNotAllowed, ""},
		{"unknown path", true, false, http.MethodGet, "/invocation/next/now", "", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rt := newServer(t, 30*time.Second)
			if tt.ready {
				invokeAsync(srv, t.Context(), `{}`, runtimeapi.InvokeOptions{RequestID: "first"})
				rt.do(http.MethodGet, "/invocation/next", "", nil)
				rt.do(http.MethodPost, "/invocation/first/response", "{}", nil)
			}
			if tt.inFlight {
				invokeAsync(srv, t.Context(), `{}`, runtimeapi.InvokeOptions{RequestID: "req"})
				if r := rt.do(http.MethodGet, "/invocation/next", "", nil); r.status != http.StatusOK {
					t.Fatalf("next: %d", r.status)
				}
			}
			r := rt.do(tt.method, tt.path, tt.body, nil)
			if r.status != tt.wantStatus || (tt.wantType != "" && r.errorType() != tt.wantType) {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tt.wantStatus, tt.wantType)
			}
		})
	}
}

func TestAnswersAfterTheFact(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		// first is posted before second; second must be refused.
		first, second string
		wantResult    string // ErrorType of the invocation, "" for success
	}{
		{"second response", 30 * time.Second, "/response", "/response", ""},
		{"error after response", 30 * time.Second, "/response", "/error", ""},
		{"response after timeout", 200 * time.Millisecond, "", "/response", runtimeapi.ErrorTypeTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rt := newServer(t, tt.timeout)
			done := invokeAsync(srv, t.Context(), `{}`, runtimeapi.InvokeOptions{RequestID: "req"})
			rt.do(http.MethodGet, "/invocation/next", "", nil)
			if tt.first != "" {
				if r := rt.do(http.MethodPost, "/invocation/req"+tt.first, `"ok"`, nil); r.status != http.StatusAccepted {
					t.Fatalf("first answer: %d", r.status)
				}
			}
			out := <-done // for the timeout case, this waits for the deadline
			if out.res.ErrorType != tt.wantResult {
				t.Fatalf("result %+v", out.res)
			}
			if r := rt.do(http.MethodPost, "/invocation/req"+tt.second, `"late"`, nil); r.status != http.StatusBadRequest || r.errorType() != "InvalidRequestID" {
				t.Errorf("late answer: %d %s, want 400 InvalidRequestID", r.status, r.body)
			}
		})
	}
}

func TestErrorTypeHeaderAndBody(t *testing.T) {
	tests := []struct {
		name     string
		header   string
		body     string
		wantType string
		wantMsg  string
	}{
		{"header wins", "Function.Custom", `{"errorMessage":"m","errorType":"Other"}`, "Function.Custom", "m"},
		{"body type (the Go runtime)", "", `{"errorMessage":"m","errorType":"errorString"}`, "errorString", "m"},
		{"neither", "", `not json`, "Unhandled", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rt := newServer(t, 30*time.Second)
			done := invokeAsync(srv, t.Context(), `{}`, runtimeapi.InvokeOptions{RequestID: "req"})
			rt.do(http.MethodGet, "/invocation/next", "", nil)
			hdr := map[string]string{}
			if tt.header != "" {
				hdr["Lambda-Runtime-Function-Error-Type"] = tt.header
			}
			if r := rt.do(http.MethodPost, "/invocation/req/error", tt.body, hdr); r.status != http.StatusAccepted {
				t.Fatalf("error post: %d", r.status)
			}
			out := <-done
			if out.res.ErrorType != tt.wantType || out.res.ErrorMessage != tt.wantMsg || string(out.res.Payload) != tt.body {
				t.Errorf("result %+v", out.res)
			}
		})
	}
}

func TestInvokeCancelledWhileQueued(t *testing.T) {
	srv, rt := newServer(t, 30*time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	cancelled := invokeAsync(srv, ctx, `"abandoned"`, runtimeapi.InvokeOptions{RequestID: "gone"})
	cancel()
	if out := <-cancelled; !errors.Is(out.err, context.Canceled) {
		t.Fatalf("cancelled invoke: %v", out.err)
	}
	done := invokeAsync(srv, t.Context(), `"wanted"`, runtimeapi.InvokeOptions{RequestID: "kept"})
	next := rt.do(http.MethodGet, "/invocation/next", "", nil)
	if next.header.Get("Lambda-Runtime-Aws-Request-Id") != "kept" {
		t.Fatalf("runtime received %s, the abandoned invocation", next.header.Get("Lambda-Runtime-Aws-Request-Id"))
	}
	rt.do(http.MethodPost, "/invocation/kept/response", `1`, nil)
	<-done
}

func TestCloseReleasesInvokers(t *testing.T) {
	srv, rt := newServer(t, 30*time.Second)
	inFlight := invokeAsync(srv, t.Context(), `{}`, runtimeapi.InvokeOptions{RequestID: "a"})
	rt.do(http.MethodGet, "/invocation/next", "", nil)
	queued := invokeAsync(srv, t.Context(), `{}`, runtimeapi.InvokeOptions{RequestID: "b"})
	// b is queued, or reaches a closed server: either way it ends ErrClosed.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan outcome{inFlight, queued} {
		if out := <-ch; !errors.Is(out.err, runtimeapi.ErrClosed) {
			t.Errorf("after Close: %v", out.err)
		}
	}
	if _, err := srv.Invoke(t.Context(), nil, runtimeapi.InvokeOptions{}); !errors.Is(err, runtimeapi.ErrClosed) {
		t.Errorf("Invoke after Close: %v", err)
	}
}

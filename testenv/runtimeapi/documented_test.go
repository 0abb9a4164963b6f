package runtimeapi_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// Documented behaviours the other tests do not reach: a response streamed
// and then failed (the error in HTTP trailers), and the states after an
// init error.

// TestStreamedResponseFailsInTrailers: a runtime streaming its response
// reports a failure midway in the Lambda-Runtime-Function-Error-Type and
// Lambda-Runtime-Function-Error-Body (base64) trailers; the invoker gets
// that error, not the partial body.
func TestStreamedResponseFailsInTrailers(t *testing.T) {
	srv, rt := newServer(t, 10*time.Second)
	done := invokeAsync(srv, t.Context(), `{}`, runtimeapi.InvokeOptions{RequestID: "stream"})
	rt.do(http.MethodGet, "/invocation/next", "", nil)

	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rt.base+"/invocation/stream/response", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Lambda-Runtime-Function-Response-Mode", "streaming")
	req.Header.Set("Transfer-Encoding", "chunked")
	req.Trailer = http.Header{"Lambda-Runtime-Function-Error-Type": nil, "Lambda-Runtime-Function-Error-Body": nil}
	doc := `{"errorMessage":"lost the upstream","errorType":"Function.Stream"}`
	go func() {
		_, _ = io.WriteString(pw, `{"partial":`)
		req.Trailer.Set("Lambda-Runtime-Function-Error-Type", "Function.Stream")
		req.Trailer.Set("Lambda-Runtime-Function-Error-Body", base64.StdEncoding.EncodeToString([]byte(doc)))
		pw.Close()
	}()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("streamed response: %d", res.StatusCode)
	}
	out := <-done
	if out.err != nil || out.res.ErrorType != "Function.Stream" || out.res.ErrorMessage != "lost the upstream" || string(out.res.Payload) != doc {
		t.Fatalf("result %+v %v", out.res, out.err)
	}
}

// TestAfterAnInitError: once the runtime posted /init/error, it may not ask
// for work, and every invocation of that environment fails with its error.
func TestAfterAnInitError(t *testing.T) {
	srv, rt := newServer(t, 10*time.Second)
	queued := invokeAsync(srv, t.Context(), `{}`, runtimeapi.InvokeOptions{RequestID: "early"})
	hdr := map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigError"}
	if r := rt.do(http.MethodPost, "/init/error", `{"errorMessage":"ORGWARDEN_DLQ_URL is required","errorType":"Runtime.ConfigError"}`, hdr); r.status != http.StatusAccepted {
		t.Fatalf("init error: %d %s", r.status, r.body)
	}
	if out := <-queued; out.err != nil || out.res.ErrorType != "Runtime.ConfigError" || !strings.Contains(out.res.ErrorMessage, "ORGWARDEN_DLQ_URL") {
		t.Errorf("invocation queued during init: %+v %v", out.res, out.err)
	}
	if r := rt.do(http.MethodGet, "/invocation/next", "", nil); r.status != http.StatusForbidden || r.errorType() != "InvalidStateTransition" {
		t.Errorf("next after an init error: %d %s", r.status, r.body)
	}
	if r := rt.do(http.MethodPost, "/init/error", `{}`, nil); r.status != http.StatusForbidden {
		t.Errorf("second init error: %d", r.status)
	}
	res, err := srv.Invoke(t.Context(), []byte(`{}`), runtimeapi.InvokeOptions{})
	if err != nil || res.ErrorType != "Runtime.ConfigError" {
		t.Errorf("later invocation: %+v %v", res, err)
	}
	if doc, ok := srv.InitError(); !ok || doc.Type != "Runtime.ConfigError" {
		t.Errorf("InitError() = %+v, %v", doc, ok)
	}
}

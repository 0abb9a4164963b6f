package runtimeapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// bootstrap is the testdata function, built once for the package by
// TestMain with the go tool, as `make build` builds the real functions.
var bootstrap string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runtimeapi-fn-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bootstrap = filepath.Join(dir, "bootstrap")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	build := exec.Command(goTool, "build", "-o", bootstrap, "./testdata/fn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testdata function: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newFunction(t *testing.T, timeout time.Duration, env ...string) *runtimeapi.Function {
	t.Helper()
	f, err := runtimeapi.NewFunction(runtimeapi.FunctionConfig{
		ProcessConfig: runtimeapi.ProcessConfig{Path: bootstrap, FunctionName: "orgwarden-test", MemoryMB: 256, Env: env},
		Timeout:       timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func invoke(t *testing.T, f *runtimeapi.Function, event string, opts runtimeapi.InvokeOptions) runtimeapi.Result {
	t.Helper()
	res, err := f.Invoke(t.Context(), []byte(event), opts)
	if err != nil {
		t.Fatalf("invoke %s: %v", event, err)
	}
	return res
}

type echoed struct {
	Text        string `json:"text"`
	RequestID   string `json:"requestId"`
	FunctionARN string `json:"functionArn"`
	DeadlineMs  int64  `json:"deadlineMs"`
	TraceID     string `json:"traceId"`
	ClientApp   string `json:"clientApp"`
	Identity    string `json:"identity"`
	Invocations int    `json:"invocations"`
}

func decodeEcho(t *testing.T, res runtimeapi.Result) echoed {
	t.Helper()
	if res.Failed() {
		t.Fatalf("invocation failed: %s: %s", res.ErrorType, res.ErrorMessage)
	}
	var e echoed
	if err := json.Unmarshal(res.Payload, &e); err != nil {
		t.Fatalf("payload %q: %v", res.Payload, err)
	}
	return e
}

func TestInvokeWarmProcess(t *testing.T) {
	f := newFunction(t, 10*time.Second)
	const (
		reqID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
		trace = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
	)
	before := time.Now()
	res := invoke(t, f, `{"action":"echo","text":"hello"}`, runtimeapi.InvokeOptions{
		RequestID: reqID, TraceID: trace,
		ClientContext:   `{"client":{"app_title":"orgwarden-cli"}}`,
		CognitoIdentity: `{"cognitoIdentityId":"us-east-1:abc"}`,
	})
	e := decodeEcho(t, res)
	if e.Text != "hello" || e.RequestID != reqID || res.RequestID != reqID || e.TraceID != trace {
		t.Errorf("echo %+v, result id %s", e, res.RequestID)
	}
	if e.FunctionARN != "arn:aws:lambda:us-east-1:000000000000:function:orgwarden-test" {
		t.Errorf("function ARN %q", e.FunctionARN)
	}
	if e.ClientApp != "orgwarden-cli" || e.Identity != "us-east-1:abc" {
		t.Errorf("client context %q, cognito identity %q", e.ClientApp, e.Identity)
	}
	deadline := time.UnixMilli(e.DeadlineMs)
	if deadline.Before(before.Add(10*time.Second)) || deadline.After(time.Now().Add(10*time.Second)) {
		t.Errorf("deadline %v is not 10s after dispatch", deadline)
	}
	if res.InitDuration <= 0 || res.Duration <= 0 {
		t.Errorf("cold start: init %v, duration %v", res.InitDuration, res.Duration)
	}

	for want := 2; want <= 4; want++ {
		res := invoke(t, f, `{"action":"echo"}`, runtimeapi.InvokeOptions{})
		if e := decodeEcho(t, res); e.Invocations != want {
			t.Errorf("invocation %d ran as number %d: not the warm process", want, e.Invocations)
		}
		if res.InitDuration != 0 {
			t.Errorf("warm invocation reports init %v", res.InitDuration)
		}
	}
	if f.ColdStarts() != 1 {
		t.Errorf("%d cold starts for warm invocations", f.ColdStarts())
	}

	for stream, text := range map[string]string{"stdout": "handling " + reqID, "stderr": "stderr line for " + reqID} {
		if _, err := f.WaitLine(t.Context(), lineMatch(stream, text)); err != nil {
			t.Errorf("%s line %q: %v; captured %+v", stream, text, err, f.Lines())
		}
	}
}

func lineMatch(stream, substr string) func(runtimeapi.Line) bool {
	return func(l runtimeapi.Line) bool {
		return (stream == "" || l.Stream == stream) && strings.Contains(l.Text, substr)
	}
}

func TestFailedInvocations(t *testing.T) {
	tests := []struct {
		name        string
		timeout     time.Duration
		event       string
		wantType    string
		wantMessage string
		wantTimeout bool
		// wantColdAfter: the next invocation needs a new environment.
		wantColdAfter bool
	}{
		{"handler error", 10 * time.Second, `{"action":"error","text":"leaver@example.com"}`, "errorString", "cannot offboard: leaver@example.com", false, false},
		{"panic", 10 * time.Second, `{"action":"panic"}`, "string", "kaboom", false, true},
		{"timeout", 300 * time.Millisecond, `{"action":"sleep","ms":30000}`, runtimeapi.ErrorTypeTimeout, "Task timed out after 0.30 seconds", true, true},
		{"oversize response", 10 * time.Second, fmt.Sprintf(`{"action":"big","size":%d}`, runtimeapi.MaxResponseSize), runtimeapi.ErrorTypeResponseTooLarge, "exceeded maximum allowed payload size (6291456 bytes)", false, true},
		{"exit during invocation", 10 * time.Second, `{"action":"exit"}`, runtimeapi.ErrorTypeExit, "Runtime exited with error: exit status 7", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFunction(t, tt.timeout)
			decodeEcho(t, invoke(t, f, `{"action":"echo"}`, runtimeapi.InvokeOptions{}))

			res := invoke(t, f, tt.event, runtimeapi.InvokeOptions{})
			if res.ErrorType != tt.wantType || !strings.Contains(res.ErrorMessage, tt.wantMessage) || res.TimedOut != tt.wantTimeout {
				t.Fatalf("result %s %q timedOut=%v, want %s %q", res.ErrorType, res.ErrorMessage, res.TimedOut, tt.wantType, tt.wantMessage)
			}
			var doc struct{ ErrorType, ErrorMessage string }
			if err := json.Unmarshal(res.Payload, &doc); err != nil || doc.ErrorType != tt.wantType {
				t.Errorf("error document %q", res.Payload)
			}
			if tt.wantTimeout && res.Duration < tt.timeout {
				t.Errorf("timed out after %v, before the %v timeout", res.Duration, tt.timeout)
			}

			// The environment survives an error; after the rest, Lambda
			// starts a new one.
			after := decodeEcho(t, invoke(t, f, `{"action":"echo"}`, runtimeapi.InvokeOptions{}))
			wantCold, wantCount := 1, 3
			if tt.wantColdAfter {
				wantCold, wantCount = 2, 1
			}
			if f.ColdStarts() != wantCold || after.Invocations != wantCount {
				t.Errorf("after the failure: %d cold starts, invocation number %d; want %d, %d", f.ColdStarts(), after.Invocations, wantCold, wantCount)
			}
		})
	}
}

func TestResponseAtTheSizeLimit(t *testing.T) {
	f := newFunction(t, 10*time.Second)
	// A JSON string of MaxResponseSize-2 characters is exactly the limit.
	res := invoke(t, f, fmt.Sprintf(`{"action":"big","size":%d}`, runtimeapi.MaxResponseSize-2), runtimeapi.InvokeOptions{})
	if res.Failed() || len(res.Payload) != runtimeapi.MaxResponseSize {
		t.Fatalf("%s %q, %d bytes", res.ErrorType, res.ErrorMessage, len(res.Payload))
	}
}

func TestInitFailures(t *testing.T) {
	tests := []struct {
		name        string
		init        string
		wantType    string
		wantMessage string
		wantLine    string
	}{
		{"exit before next", "exit", runtimeapi.ErrorTypeExit, "Runtime exited with error: exit status 3", "config: OPENAI_ADMIN_KEY is not set"},
		{"init error reported", "report", "Runtime.ConfigError", "missing OPENAI_ADMIN_KEY", "reporting init error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFunction(t, 5*time.Second, "FN_INIT="+tt.init)
			res := invoke(t, f, `{"action":"echo"}`, runtimeapi.InvokeOptions{})
			if res.ErrorType != tt.wantType || !strings.Contains(res.ErrorMessage, tt.wantMessage) {
				t.Fatalf("result %s %q, want %s %q", res.ErrorType, res.ErrorMessage, tt.wantType, tt.wantMessage)
			}
			if _, err := f.WaitLine(t.Context(), lineMatch("", tt.wantLine)); err != nil {
				t.Errorf("output %+v lacks %q: %v", f.Lines(), tt.wantLine, err)
			}
			// Every invocation retries init in a new environment, and fails again.
			res = invoke(t, f, `{"action":"echo"}`, runtimeapi.InvokeOptions{})
			if res.ErrorType != tt.wantType || f.ColdStarts() != 2 {
				t.Errorf("second invocation: %s after %d cold starts", res.ErrorType, f.ColdStarts())
			}
		})
	}
}

func TestProcessWaitInit(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		wantType string // empty: init succeeds
	}{
		{"ready", nil, ""},
		{"exit", []string{"FN_INIT=exit"}, runtimeapi.ErrorTypeExit},
		{"report", []string{"FN_INIT=report"}, "Runtime.ConfigError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := runtimeapi.NewServer(runtimeapi.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			p, err := runtimeapi.StartProcess(srv, runtimeapi.ProcessConfig{Path: bootstrap, Env: tt.env})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			d, err := p.WaitInit(t.Context())
			if tt.wantType == "" {
				if err != nil || d <= 0 {
					t.Fatalf("init %v, %v", d, err)
				}
				return
			}
			ie, ok := err.(*runtimeapi.InitError)
			if !ok || ie.Type != tt.wantType {
				t.Fatalf("WaitInit: %v, want an InitError of type %s", err, tt.wantType)
			}
			if tt.wantType != runtimeapi.ErrorTypeExit {
				if doc, ok := srv.InitError(); !ok || doc.Type != tt.wantType {
					t.Errorf("InitError() = %+v, %v", doc, ok)
				}
			}
		})
	}
}

func TestLambdaEnvironment(t *testing.T) {
	t.Setenv("ORGWARDEN_HOST_ONLY", "must not leak")
	f := newFunction(t, 10*time.Second, "ORGWARDEN_DRY_RUN=true", "AWS_REGION=eu-west-1")
	res := invoke(t, f, `{"action":"env"}`, runtimeapi.InvokeOptions{})
	if res.Failed() {
		t.Fatal(res.ErrorMessage)
	}
	var env map[string]string
	if err := json.Unmarshal(res.Payload, &env); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(bootstrap)
	want := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          f.Server().Addr(),
		"AWS_LAMBDA_FUNCTION_NAME":        "orgwarden-test",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/orgwarden-test",
		"AWS_REGION":                      "eu-west-1", // the caller's value wins
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                dir,
		"PWD":                             dir,
		"ORGWARDEN_DRY_RUN":               "true",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if !regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`).MatchString(env["AWS_LAMBDA_LOG_STREAM_NAME"]) {
		t.Errorf("log stream %q", env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	if _, ok := env["ORGWARDEN_HOST_ONLY"]; ok {
		t.Error("the host environment leaked into the function")
	}
}

// TestConcurrentInvokesShareOneEnvironment: one execution environment runs
// invocations one at a time; concurrent callers queue.
func TestConcurrentInvokesShareOneEnvironment(t *testing.T) {
	f := newFunction(t, 10*time.Second)
	const n = 8
	var wg sync.WaitGroup
	seen := make(chan int, n)
	for range n {
		wg.Go(func() {
			res, err := f.Invoke(context.Background(), []byte(`{"action":"echo"}`), runtimeapi.InvokeOptions{})
			if err != nil || res.Failed() {
				t.Errorf("invoke: %v %s", err, res.ErrorMessage)
				return
			}
			var e echoed
			_ = json.Unmarshal(res.Payload, &e)
			seen <- e.Invocations
		})
	}
	wg.Wait()
	close(seen)
	got := map[int]bool{}
	for c := range seen {
		got[c] = true
	}
	if len(got) != n || f.ColdStarts() != 1 {
		t.Errorf("invocation numbers %v over %d cold starts, want 1..%d on one process", got, f.ColdStarts(), n)
	}
}

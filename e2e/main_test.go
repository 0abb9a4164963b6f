package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/e2e/harness"
	infraconfig "github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/stack"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// suite is what TestMain prepares once: the bootstraps and the logbook
// that every process's output goes through.
type suite struct {
	root string
	dir  string
	bins map[string]harness.Binary
	logs *harness.Logbook

	mu    sync.Mutex
	inits map[string][]time.Duration // cold-start init durations per function
}

// the is nil unless ORGWARDEN_E2E is set; tests then skip.
var the *suite

func TestMain(m *testing.M) {
	if os.Getenv("ORGWARDEN_E2E") == "" {
		fmt.Println("e2e: skipped (set ORGWARDEN_E2E=1, or run make e2e, to build and run the real bootstraps)")
		os.Exit(m.Run())
	}
	s, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	the = s
	code := m.Run()
	if err := s.finish(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = 1
	}
	os.Exit(code)
}

func setup() (*suite, error) {
	root, err := harness.ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir := os.Getenv("ORGWARDEN_E2E_DIR")
	if dir == "" {
		dir = filepath.Join(root, "build", "e2e")
	}
	binDir := filepath.Join(dir, runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, err
	}
	start := time.Now()
	bins, err := harness.Build(context.Background(), harness.BuildOptions{Root: root, Dir: binDir})
	if err != nil {
		return nil, err
	}
	fmt.Printf("e2e: built %d bootstraps for %s/%s in %s\n", len(bins), runtime.GOOS, runtime.GOARCH, time.Since(start).Round(time.Millisecond))
	logDir := filepath.Join(dir, "logs")
	_ = os.RemoveAll(logDir)
	logs, err := harness.NewLogbook(logDir)
	if err != nil {
		return nil, err
	}
	return &suite{root: root, dir: dir, bins: bins, logs: logs, inits: map[string][]time.Duration{}}, nil
}

// finish reports the secret scan over every line every bootstrap wrote,
// and records each function's binary size and init durations.
func (s *suite) finish() error {
	files, lines, leaks := s.logs.Totals()
	fmt.Printf("e2e: secret scan: %d lines from %d function instances (logs in %s): %d with key material\n", lines, files, s.logs.Dir(), len(leaks))
	for _, l := range leaks {
		fmt.Println("e2e:   ", l)
	}

	type record struct {
		BinaryBytes int64     `json:"binary_bytes"`
		InitMs      []float64 `json:"init_ms"`
	}
	out := struct {
		GOOS, GOARCH string
		Functions    map[string]record `json:"functions"`
	}{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Functions: map[string]record{}}
	fmt.Printf("e2e: %-14s %12s %10s %s\n", "function", "binary", "cold starts", "init (median, max)")
	s.mu.Lock()
	for _, name := range harness.Functions {
		b, ok := s.bins[name]
		if !ok {
			fmt.Printf("e2e: %-14s not built (functions/%s/main.go is missing)\n", name, name)
			continue
		}
		var ms []float64
		for _, d := range s.inits[name] {
			ms = append(ms, float64(d.Microseconds())/1000)
		}
		slices.Sort(ms)
		out.Functions[name] = record{BinaryBytes: b.Size, InitMs: ms}
		med, hi := "-", "-"
		if len(ms) > 0 {
			med, hi = fmt.Sprintf("%.1f ms", ms[len(ms)/2]), fmt.Sprintf("%.1f ms", ms[len(ms)-1])
		}
		fmt.Printf("e2e: %-14s %9.1f MiB %10d  %s, %s\n", name, float64(b.Size)/(1<<20), len(ms), med, hi)
	}
	s.mu.Unlock()
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile(filepath.Join(s.dir, "measurements.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if len(leaks) > 0 {
		return fmt.Errorf("key material in %d log lines", len(leaks))
	}
	return nil
}

func (s *suite) recordInit(function string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inits[function] = append(s.inits[function], d)
}

// needSuite skips the test unless the suite is on.
func needSuite(t *testing.T) *suite {
	t.Helper()
	if the == nil {
		t.Skip("e2e suite off: run make e2e (ORGWARDEN_E2E=1)")
	}
	return the
}

// deployOptions describe one test's world.
type deployOptions struct {
	seed      *adminapi.Seed
	faults    adminapi.Faults
	configure func(*infraconfig.Config)
	stack     stack.Options
	// unvalidated serves the emulator without the contract middleware
	// (soak runs with dropped connections, where a half-sent response
	// cannot be validated).
	unvalidated bool
}

// deployment is one test's world: its own organization and local AWS.
type deployment struct {
	t *testing.T
	s *suite
	*harness.World
	api *adminapitest.Server
}

func deploy(t *testing.T, o deployOptions) *deployment {
	t.Helper()
	s := needSuite(t)
	seed := o.seed
	if seed == nil {
		small := adminapi.SmallSeed(7)
		seed = &small
	}
	var opts []adminapitest.Option
	if o.unvalidated {
		opts = append(opts, adminapitest.WithoutValidation())
	}
	api := adminapitest.New(t, adminapi.Options{Seed: seed, Faults: o.faults}, opts...)
	w, err := harness.NewWorld(t.Context(), harness.WorldOptions{Emulator: api.Emulator, APIURL: api.URL, Configure: o.configure, Stack: o.stack})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return &deployment{t: t, s: s, World: w, api: api}
}

// function starts bootstrap of name as its Lambda function in this world.
// When the test ends the processes stop, and every line they wrote is
// recorded and scanned for the world's key material.
func (d *deployment) function(name string, o harness.FunctionOptions) *lambdaFunction {
	d.t.Helper()
	bin, ok := d.s.bins[name]
	if !ok {
		d.t.Skipf("functions/%s is not in the tree yet: nothing to run", name)
	}
	fn, err := d.Function(name, bin.Path, o)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() {
		_ = fn.Close()
		planted, err := d.KeyMaterial(context.Background())
		if err != nil {
			d.t.Errorf("collect key material: %v", err)
		}
		if len(planted) == 0 {
			d.t.Error("the world holds no key material: the scan would prove nothing")
		}
		leaks, err := d.s.logs.Record(d.t.Name()+"/"+name, fn.Lines(), planted)
		if err != nil {
			d.t.Error(err)
		}
		for _, l := range leaks {
			d.t.Errorf("key material in the function's output: %s", l)
		}
	})
	return &lambdaFunction{Function: fn, name: name, d: d}
}

// lambdaFunction is a function under the harness.
type lambdaFunction struct {
	*runtimeapi.Function
	name string
	d    *deployment
}

// invoke sends payload and returns the result; a harness error fails the
// test, a function error is the caller's to judge. Cold starts' init
// durations are recorded for the suite's report.
func (f *lambdaFunction) invoke(payload string, opts runtimeapi.InvokeOptions) runtimeapi.Result {
	f.d.t.Helper()
	res, err := f.Invoke(f.d.t.Context(), []byte(payload), opts)
	if err != nil {
		f.d.t.Fatalf("invoke %s: %v", f.name, err)
	}
	if res.InitDuration > 0 {
		f.d.s.recordInit(f.name, res.InitDuration)
	}
	return res
}

// ok invokes and fails the test unless the invocation succeeded; it
// decodes the response into out when out is not nil.
func (f *lambdaFunction) ok(payload string, out any) runtimeapi.Result {
	f.d.t.Helper()
	res := f.invoke(payload, runtimeapi.InvokeOptions{})
	if res.Failed() {
		f.d.t.Fatalf("%s failed on %s: %s: %s", f.name, short(payload), res.ErrorType, res.ErrorMessage)
	}
	if out != nil {
		if err := json.Unmarshal(res.Payload, out); err != nil {
			f.d.t.Fatalf("%s response %s: %v", f.name, short(string(res.Payload)), err)
		}
	}
	return res
}

// jsonLines returns the function's stdout lines that are JSON objects.
func (f *lambdaFunction) jsonLines() []map[string]any {
	var out []map[string]any
	for _, l := range f.Lines() {
		var m map[string]any
		if strings.HasPrefix(l.Text, "{") && json.Unmarshal([]byte(l.Text), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// waitLine waits until the function has written a line containing substr.
func (f *lambdaFunction) waitLine(substr string) {
	f.d.t.Helper()
	ctx, cancel := context.WithTimeout(f.d.t.Context(), 10*time.Second)
	defer cancel()
	if _, err := f.WaitLine(ctx, func(l runtimeapi.Line) bool { return strings.Contains(l.Text, substr) }); err != nil {
		f.d.t.Fatalf("%s never wrote %q: %v", f.name, substr, err)
	}
}

func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// metrics sums the EMF metrics the function wrote, by name, over the
// dimension set [Function] (the one the stack's alarms use).
func (f *lambdaFunction) metrics() map[string]float64 {
	out := map[string]float64{}
	for _, m := range f.jsonLines() {
		aws, ok := m["_aws"].(map[string]any)
		if !ok || m["Function"] != f.name {
			continue
		}
		dirs, _ := aws["CloudWatchMetrics"].([]any)
		for _, d := range dirs {
			dir, _ := d.(map[string]any)
			if dir["Namespace"] != "Orgwarden" {
				continue
			}
			dims, _ := dir["Dimensions"].([]any)
			if len(dims) != 1 || fmt.Sprint(dims[0]) != "[Function]" {
				continue
			}
			defs, _ := dir["Metrics"].([]any)
			for _, def := range defs {
				name, _ := def.(map[string]any)["Name"].(string)
				v, _ := m[name].(float64)
				out[name] += v
			}
		}
	}
	return out
}

// summaries returns the "summary" attribute of every summary log line.
func (f *lambdaFunction) summaries() []map[string]any {
	var out []map[string]any
	for _, m := range f.jsonLines() {
		if m["message"] == "summary" {
			if s, ok := m["summary"].(map[string]any); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// assertMetrics checks that the function emitted every named metric.
func (f *lambdaFunction) assertMetrics(names ...string) map[string]float64 {
	f.d.t.Helper()
	got := f.metrics()
	for _, n := range names {
		if _, ok := got[n]; !ok {
			f.d.t.Errorf("%s emitted no %s metric (EMF); got %v", f.name, n, got)
		}
	}
	return got
}

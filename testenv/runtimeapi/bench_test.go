package runtimeapi_test

import (
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// BenchmarkWarmInvoke measures a warm invocation of a real aws-lambda-go
// process through the Runtime API.
func BenchmarkWarmInvoke(b *testing.B) {
	f, err := runtimeapi.NewFunction(runtimeapi.FunctionConfig{ProcessConfig: runtimeapi.ProcessConfig{Path: bootstrap}, Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	first, err := f.Invoke(b.Context(), []byte(`{"action":"echo"}`), runtimeapi.InvokeOptions{})
	if err != nil || first.Failed() {
		b.Fatalf("cold start: %v %s", err, first.ErrorMessage)
	}
	for b.Loop() {
		res, err := f.Invoke(b.Context(), []byte(`{"action":"echo"}`), runtimeapi.InvokeOptions{})
		if err != nil || res.Failed() {
			b.Fatalf("%v %s", err, res.ErrorMessage)
		}
	}
}

// BenchmarkColdStart measures process start to the first /next.
func BenchmarkColdStart(b *testing.B) {
	srv, err := runtimeapi.NewServer(runtimeapi.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	var total time.Duration
	for b.Loop() {
		p, err := runtimeapi.StartProcess(srv, runtimeapi.ProcessConfig{Path: bootstrap})
		if err != nil {
			b.Fatal(err)
		}
		d, err := p.WaitInit(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		total += d
		p.Stop()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "init-µs/op")
}

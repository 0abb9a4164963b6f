package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/orgwarden/orgwarden/e2e/harness"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// Artifact is one function's deployment package and init time, beside
// the minimal function's (the baseline).
type Artifact struct {
	Name     string
	ZipBytes int64 // linux/arm64 deployment package
	Binary   int64 // linux/arm64 bootstrap
	// Inits are the cold starts' init durations (process start to the
	// first /next), host build, sorted.
	Inits   []time.Duration
	InitErr error
}

// Median is the middle init duration.
func (a Artifact) Median() time.Duration {
	if len(a.Inits) == 0 {
		return 0
	}
	return a.Inits[len(a.Inits)/2]
}

// Max is the slowest init.
func (a Artifact) Max() time.Duration {
	if len(a.Inits) == 0 {
		return 0
	}
	return a.Inits[len(a.Inits)-1]
}

// measureArtifacts builds every function and the minimal one for
// linux/arm64 (zipped as `make build` zips) and for the host, and starts
// each host binary cold times under the Runtime API harness with the
// environment the stack gives it, pointing at a local world.
func measureArtifacts(ctx context.Context, root string, cold int) (map[string]Artifact, error) {
	dir, err := os.MkdirTemp("", "orgwarden-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	arm, err := harness.Build(ctx, harness.BuildOptions{Root: root, Dir: filepath.Join(dir, "arm64"), GOOS: "linux", GOARCH: "arm64", Minimal: true})
	if err != nil {
		return nil, err
	}
	host, err := harness.Build(ctx, harness.BuildOptions{Root: root, Dir: filepath.Join(dir, "host"), Minimal: true})
	if err != nil {
		return nil, err
	}

	seed := adminapi.SmallSeed(1)
	emu, err := adminapi.New(adminapi.Options{Seed: &seed})
	if err != nil {
		return nil, err
	}
	api := httptest.NewServer(emu)
	defer api.Close()
	w, err := harness.NewWorld(ctx, harness.WorldOptions{Emulator: emu, APIURL: api.URL + "/v1"})
	if err != nil {
		return nil, err
	}
	defer w.Close()

	out := map[string]Artifact{}
	for name, b := range arm {
		z, err := harness.Zip(ctx, root, b)
		if err != nil {
			return nil, err
		}
		a := Artifact{Name: name, ZipBytes: z.ZipSize, Binary: b.Size}
		var env []string
		if name != "minimal" {
			if env, err = w.Env(name, nil); err != nil {
				return nil, err
			}
		}
		a.Inits, a.InitErr = coldStarts(ctx, host[name].Path, env, cold)
		out[name] = a
	}
	return out, nil
}

// coldStarts starts bootstrap n times (after one unmeasured start that
// warms the page cache) and returns the sorted init durations.
func coldStarts(ctx context.Context, bootstrap string, env []string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := -1; i < n; i++ {
		d, err := coldStart(ctx, bootstrap, env)
		if err != nil {
			return nil, err
		}
		if i >= 0 {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out, nil
}

func coldStart(ctx context.Context, bootstrap string, env []string) (time.Duration, error) {
	srv, err := runtimeapi.NewServer(runtimeapi.Config{FunctionName: filepath.Base(filepath.Dir(bootstrap))})
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	p, err := runtimeapi.StartProcess(srv, runtimeapi.ProcessConfig{Path: bootstrap, Env: env, MemoryMB: 256})
	if err != nil {
		return 0, err
	}
	defer p.Stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d, err := p.WaitInit(ctx)
	if err != nil {
		return 0, fmt.Errorf("init of %s: %w", bootstrap, err)
	}
	return d, nil
}

// Package harness runs orgwarden's real Lambda artefacts the way Lambda
// runs them, for the end-to-end suite (e2e/) and the performance report
// (bench/): it builds each function's bootstrap with the release flags,
// provisions a local world like the CDK stack does (the Admin API emulator,
// S3, Secrets Manager, SQS and EventBridge on loopback), plays the event
// sources AWS would (an SQS event source mapping with partial batch
// responses, Secrets Manager rotation) and scans everything the processes
// wrote for key material.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// Functions are orgwarden's Lambda functions, in the order the report lists them.
var Functions = []string{"keyrotation", "invitecleanup", "auditexport", "offboarding", "inventory"}

// MinimalFunction is the smallest real aws-lambda-go function in the
// repository (the Runtime API harness's own test function). Its binary
// size, zip size and init time are the baselines the report quotes ratios
// against: what any Go Lambda costs before orgwarden adds anything.
const MinimalFunction = "testenv/runtimeapi/testdata/fn"

// Binary is a built bootstrap.
type Binary struct {
	Name string // function name, or "minimal"
	Path string
	Size int64
	// Zip and ZipSize are set by Zip.
	Zip     string
	ZipSize int64
}

// BuildOptions say what to build and where.
type BuildOptions struct {
	// Root is the module root; default ModuleRoot().
	Root string
	// Dir receives <name>/bootstrap for every binary.
	Dir string
	// GOOS and GOARCH default to the host's (what the e2e suite runs);
	// the deployment packages are linux/arm64.
	GOOS, GOARCH string
	// Functions to build; default every function whose main.go exists.
	Functions []string
	// Minimal also builds MinimalFunction as "minimal".
	Minimal bool
}

// ModuleRoot finds the repository root from the working directory.
func ModuleRoot() (string, error) {
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("find module root: not inside the orgwarden module")
	}
	return filepath.Dir(mod), nil
}

// Present returns the functions whose functions/<name>/main.go exists under
// root: the others are still being written and cannot be built.
func Present(root string) []string {
	var out []string
	for _, f := range Functions {
		if _, err := os.Stat(filepath.Join(root, "functions", f, "main.go")); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// Build builds the bootstraps with the flags `make build` uses (CGO off,
// -trimpath, -tags lambda.norpc, stripped, no build id) in one go command,
// so the packages they share compile once.
func Build(ctx context.Context, o BuildOptions) (map[string]Binary, error) {
	if o.Root == "" {
		root, err := ModuleRoot()
		if err != nil {
			return nil, err
		}
		o.Root = root
	}
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.GOARCH == "" {
		o.GOARCH = runtime.GOARCH
	}
	names := o.Functions
	if names == nil {
		names = Present(o.Root)
	}
	pkgs := map[string]string{} // package dir -> name
	for _, n := range names {
		pkgs["./functions/"+n] = n
	}
	if o.Minimal {
		pkgs["./"+MinimalFunction] = "minimal"
	}
	if len(pkgs) == 0 {
		return map[string]Binary{}, nil
	}
	// go build -o DIR/ names each binary after its package's last path
	// element; build into a scratch directory, then move each into place.
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	scratch, err := os.MkdirTemp(o.Dir, ".build-")
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	defer os.RemoveAll(scratch)
	args := []string{"build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w -buildid=", "-o", scratch + string(filepath.Separator)}
	dirs := slices.Sorted(func(yield func(string) bool) {
		for d := range pkgs {
			if !yield(d) {
				return
			}
		}
	})
	args = append(args, dirs...)
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+o.GOOS, "GOARCH="+o.GOARCH)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", strings.Join(dirs, " "), err, stderr.String())
	}
	out := map[string]Binary{}
	for _, d := range dirs {
		name := pkgs[d]
		dst := filepath.Join(o.Dir, name, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("build %s: %w", name, err)
		}
		if err := os.Rename(filepath.Join(scratch, filepath.Base(d)), dst); err != nil {
			return nil, fmt.Errorf("build %s: %w", name, err)
		}
		fi, err := os.Stat(dst)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", name, err)
		}
		out[name] = Binary{Name: name, Path: dst, Size: fi.Size()}
	}
	return out, nil
}

// Zip packs b as a deployment package with the repository's own packer
// (internal/tools/mkzip, what `make build` uses) next to the bootstrap.
func Zip(ctx context.Context, root string, b Binary) (Binary, error) {
	zip := filepath.Join(filepath.Dir(b.Path), b.Name+".zip")
	cmd := exec.CommandContext(ctx, goTool(), "run", "./internal/tools/mkzip", "-o", zip, b.Path)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return b, fmt.Errorf("zip %s: %w\n%s", b.Name, err, out)
	}
	fi, err := os.Stat(zip)
	if err != nil {
		return b, fmt.Errorf("zip %s: %w", b.Name, err)
	}
	b.Zip, b.ZipSize = zip, fi.Size()
	return b, nil
}

// goTool is the go command on PATH, else the one in $GOROOT (go test
// runs with GOROOT set).
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

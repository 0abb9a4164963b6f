// Package layering checks the rule the layout states: what ships to Lambda
// (functions/ and the shared/ packages they link) links none of the local
// worlds (testenv/), the CDK app or its modules, the command line, or a
// module only the tests use; and shared/ holds nothing the functions do not
// link.
package layering

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/orgwarden/orgwarden"

// pkg is one line of `go list -deps`: an import path and its module.
type pkg struct{ path, module string }

// forbidden says why a package a function links must not ship, or "".
func forbidden(p pkg) string {
	for _, prefix := range []string{"testenv", "infra", "cmd", "e2e", "bench", "internal/tools"} {
		if p.path == module+"/"+prefix || strings.HasPrefix(p.path, module+"/"+prefix+"/") {
			return "local world, CDK app or tooling (" + prefix + "/)"
		}
	}
	switch p.path {
	case "testing", "net/http/httptest", "testing/iotest", "testing/fstest":
		return "standard library test support"
	}
	for _, m := range []string{
		"github.com/aws/aws-cdk-go/", "github.com/aws/constructs-go/", "github.com/aws/jsii-runtime-go",
		"github.com/cdklabs/", "github.com/getkin/kin-openapi", "github.com/johannesboyne/gofakes3",
		"github.com/duckdb/", "github.com/stretchr/testify",
	} {
		if strings.HasPrefix(p.module, m) || p.module == strings.TrimSuffix(m, "/") {
			return "CDK or test-only module " + p.module
		}
	}
	return ""
}

func TestForbidden(t *testing.T) {
	tests := []struct {
		p    pkg
		want bool
	}{
		{pkg{module + "/shared/adminclient", module}, false},
		{pkg{module + "/functions/offboarding/offboard", module}, false},
		{pkg{"net/http", ""}, false},
		{pkg{"github.com/aws/aws-sdk-go-v2/service/s3", "github.com/aws/aws-sdk-go-v2/service/s3"}, false},
		{pkg{module + "/testenv/adminapi", module}, true},
		{pkg{module + "/testenv/awslocal/s3", module}, true},
		{pkg{module + "/infra/stack", module}, true},
		{pkg{module + "/cmd/orgwarden", module}, true},
		{pkg{"testing", ""}, true},
		{pkg{"net/http/httptest", ""}, true},
		{pkg{"github.com/aws/aws-cdk-go/awscdk/v2", "github.com/aws/aws-cdk-go/awscdk/v2"}, true},
		{pkg{"github.com/aws/jsii-runtime-go", "github.com/aws/jsii-runtime-go"}, true},
		{pkg{"github.com/getkin/kin-openapi/openapi3", "github.com/getkin/kin-openapi"}, true},
		{pkg{"github.com/johannesboyne/gofakes3", "github.com/johannesboyne/gofakes3"}, true},
	}
	for _, tt := range tests {
		if got := forbidden(tt.p) != ""; got != tt.want {
			t.Errorf("forbidden(%s) = %v, want %v", tt.p.path, got, tt.want)
		}
	}
}

// goList runs `go list` at the module root and returns one pkg per line.
func goList(t *testing.T, args ...string) []pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}"}, args...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	var pkgs []pkg
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		p := pkg{path: f[0]}
		if len(f) > 1 {
			p.module = f[1]
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestFunctionsLinkOnlyWhatShips walks every function's dependency graph,
// as `go build` sees it for the Lambda binary (tests excluded).
func TestFunctionsLinkOnlyWhatShips(t *testing.T) {
	deps := goList(t, "-deps", "./functions/...")
	if len(deps) < 50 {
		t.Fatalf("go list -deps ./functions/... listed %d packages: the walk itself is broken", len(deps))
	}
	for _, p := range deps {
		if why := forbidden(p); why != "" {
			t.Errorf("a function links %s: %s", p.path, why)
		}
	}
}

// TestSharedHoldsOnlyWhatShips fails for a package under shared/ that no
// function links: it belongs in testenv/ (a local world) or beside its one
// user.
func TestSharedHoldsOnlyWhatShips(t *testing.T) {
	linked := map[string]bool{}
	for _, p := range goList(t, "-deps", "./functions/...") {
		linked[p.path] = true
	}
	for _, p := range goList(t, "./shared/...") {
		if !linked[p.path] {
			t.Errorf("%s is under shared/ but no function links it", p.path)
		}
	}
}

// TestCommandLineLinksNoTesting: the local worlds the command line serves
// keep their test starters in packages of their own (as net/http/httptest
// stands beside net/http), so the binary links no package testing.
func TestCommandLineLinksNoTesting(t *testing.T) {
	deps := goList(t, "-deps", "./cmd/orgwarden")
	if slices.ContainsFunc(deps, func(p pkg) bool { return p.path == "testing" }) {
		t.Error("cmd/orgwarden links package testing: a test starter is in a package the command line imports")
	}
}

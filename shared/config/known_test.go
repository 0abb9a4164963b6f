package config

import (
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestUnknownVariableRefusedWithNearestName(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{"typo of dry run", map[string]string{"OPENAI_ADMIN_KEY": "k", "ORGWARDEN_DRYRUN": "true"},
			[]string{"ORGWARDEN_DRYRUN", "did you mean ORGWARDEN_DRY_RUN"}},
		{"lower-case typo", map[string]string{"OPENAI_ADMIN_KEY": "k", "ORGWARDEN_MAX_DELETION": "3"},
			[]string{"did you mean ORGWARDEN_MAX_DELETIONS"}},
		{"nothing close", map[string]string{"OPENAI_ADMIN_KEY": "k", "ORGWARDEN_COMPLETELY_DIFFERENT_THING": "1"},
			[]string{"ORGWARDEN_COMPLETELY_DIFFERENT_THING: no orgwarden function reads this variable"}},
		{"every function's own variables are known", map[string]string{"OPENAI_ADMIN_KEY": "k",
			"ORGWARDEN_INVITE_MAX_AGE": "3d", "ORGWARDEN_AUDIT_BUCKET": "b", "ORGWARDEN_JOURNAL_PREFIX": "p",
			"ORGWARDEN_ROTATION_GRACE": "1h", "OTHER_TOOL_SETTING": "x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(MapEnv(tt.env))
			ReadCommon(r)
			err := r.Err()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if err := CheckNames(MapEnv(tt.env)); err == nil {
				t.Error("CheckNames accepts what ReadCommon refuses")
			}
		})
	}
}

func TestOSEnvListsItsNames(t *testing.T) {
	t.Setenv("ORGWARDEN_DRYRUN", "true")
	err := CheckNames(OSEnv())
	if err == nil || !strings.Contains(err.Error(), "ORGWARDEN_DRY_RUN") {
		t.Fatalf("CheckNames(OSEnv()) = %v, want the typo refused", err)
	}
}

// TestKnownCoversEveryVariableRead scans the module's Go sources (and the
// Makefiles) for ORGWARDEN_* names: each must be in Known, and each Known
// name must be used somewhere, so the registry neither misses a variable
// nor keeps a dead one.
func TestKnownCoversEveryVariableRead(t *testing.T) {
	root := filepath.Join("..", "..")
	re := regexp.MustCompile(`\bORGWARDEN_[A-Z0-9_]*[A-Z0-9]\b`)
	used := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "cdk.out", ".git", "testdata", "build":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".mk") && d.Name() != "Makefile" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(b)
		if strings.HasSuffix(path, ".go") {
			text = goStrings(b) // a name in a comment is not a read
		}
		for _, m := range re.FindAllString(text, -1) {
			// Tests plant unknown names on purpose: they count as uses
			// of a known name, never as names to know.
			if strings.HasSuffix(path, "_test.go") {
				if _, ok := Known[m]; !ok {
					continue
				}
			}
			if _, ok := used[m]; !ok {
				used[m] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, path := range used {
		if _, ok := Known[name]; !ok {
			t.Errorf("%s (used in %s) is not in config.Known: a deployment setting it would be refused", name, path)
		}
	}
	for name := range Known {
		if _, ok := used[name]; !ok {
			t.Errorf("config.Known lists %s, which nothing reads", name)
		}
	}
}

func TestNearest(t *testing.T) {
	for in, want := range map[string]string{
		"ORGWARDEN_DRYRUN":           "ORGWARDEN_DRY_RUN",
		"orgwarden_dry_run":          "ORGWARDEN_DRY_RUN",
		"ORGWARDEN_PROTECTED_EMAIL":  "ORGWARDEN_PROTECTED_EMAILS",
		"ORGWARDEN_INVITE_MAXAGE":    "ORGWARDEN_INVITE_MAX_AGE",
		"ORGWARDEN_ZZZZZZZZZZZZZZZZ": "",
	} {
		if got := Nearest(in); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainHTTPRefusedInLambdaExceptLoopback(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		refuse bool
	}{
		{"lambda, remote http", map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "f", "OPENAI_BASE_URL": "http://api.example.com/v1"}, true},
		{"runtime api only, remote http", map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "OPENAI_BASE_URL": "http://10.0.0.5:8787/v1"}, true},
		{"lambda, ipv6 remote http", map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "f", "OPENAI_BASE_URL": "http://[2001:db8::1]/v1"}, true},
		{"lambda, name that starts like loopback", map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "f", "OPENAI_BASE_URL": "http://127.0.0.1.evil.example/v1"}, true},
		{"lambda, https", map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "f", "OPENAI_BASE_URL": "https://api.example.com/v1"}, false},
		{"lambda, loopback v4", map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "f", "OPENAI_BASE_URL": "http://127.0.0.1:8787/v1"}, false},
		{"lambda, loopback v6", map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "f", "OPENAI_BASE_URL": "http://[::1]:8787/v1"}, false},
		{"lambda, localhost", map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "f", "OPENAI_BASE_URL": "http://localhost:8787/v1"}, false},
		{"local run, remote http", map[string]string{"OPENAI_BASE_URL": "http://10.0.0.5:8787/v1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["OPENAI_ADMIN_KEY"] = "k"
			r := NewReader(MapEnv(tt.env))
			ReadCommon(r)
			err := r.Err()
			if tt.refuse != (err != nil && strings.Contains(err.Error(), "plain http is refused in Lambda")) {
				t.Errorf("refused = %v, want %v (err %v)", err != nil, tt.refuse, err)
			}
		})
	}
}

// goStrings returns the string literals of a Go source file, one a line.
func goStrings(src []byte) string {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", fset.Base(), len(src)), src, nil, 0)
	var b strings.Builder
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return b.String()
		}
		if tok == token.STRING {
			b.WriteString(lit)
			b.WriteByte('\n')
		}
	}
}

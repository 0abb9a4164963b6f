package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/shared/config"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = newCLI(&out, &errOut, config.MapEnv(env)).run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func TestUsageAndErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   string
		oneLined bool
	}{
		{"no args prints usage", nil, 2, "Commands:", "", false},
		{"help", []string{"--help"}, 0, "Usage: orgwarden COMMAND", "", false},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`, true},
		{"run without job", []string{"run"}, 2, "Usage: orgwarden run", "name a job", true},
		{"run unknown job", []string{"run", "nope"}, 2, "", `unknown function "nope"`, true},
		{"invoke help", []string{"invoke", "--help"}, 0, "--event", "", false},
		{"invoke unknown", []string{"invoke", "nope", "--event", "x"}, 2, "", `unknown function "nope"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q lacks %q", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			if tt.oneLined && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("error should be one line: %q", stderr)
			}
		})
	}
}

func TestHelpPrintsUsageOnce(t *testing.T) {
	for _, args := range [][]string{
		{"emulator", "--help"}, {"demo", "--help"}, {"verify", "--help"}, {"restore", "--help"},
		{"run", "auditexport", "--help"}, {"run", "keyrotation", "--help"}, {"run", "invitecleanup", "--help"},
		{"run", "offboarding", "--help"}, {"invoke", "--help"},
	} {
		code, stdout, _ := runCLI(t, nil, args...)
		if code != 0 || strings.Count(stdout, "Usage: orgwarden") != 1 {
			t.Errorf("%v: exit %d, usage printed %d times:\n%s", args, code, strings.Count(stdout, "Usage: orgwarden"), stdout)
		}
	}
}

func TestReadEvent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ev.json")
	if err := os.WriteFile(p, []byte(`{"a":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := readEvent(p)
	if err != nil || string(b) != `{"a":1}` {
		t.Fatalf("readEvent = %q, %v", b, err)
	}
	if _, err := readEvent(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("want an error for a missing file")
	}
}

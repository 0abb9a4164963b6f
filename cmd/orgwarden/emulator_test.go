package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/logtest"
)

func TestEmulatorCommandServesTheSeededOrganization(t *testing.T) {
	key := "sk-admin-" + strings.Repeat("e", 40)
	var stdout, stderr logtest.Buffer
	c := newCLI(&stdout, &stderr, config.MapEnv(map[string]string{"OPENAI_ADMIN_KEY": key}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- c.run(ctx, []string{"emulator", "--addr", "127.0.0.1:0", "--seed", "small"}) }()

	var baseURL string
	for deadline := time.Now().Add(10 * time.Second); baseURL == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if first, _, ok := strings.Cut(stdout.String(), "\n"); ok {
			baseURL = first
		}
	}
	if !strings.HasPrefix(baseURL, "http://127.0.0.1:") || !strings.HasSuffix(baseURL, "/v1") {
		cancel()
		t.Fatalf("first line of stdout = %q, want the base URL", baseURL)
	}
	client, err := adminclient.New(adminclient.Options{BaseURL: baseURL, AdminKey: logging.Secret(key)})
	if err != nil {
		t.Fatal(err)
	}
	users, err := adminclient.Collect(client.Users(ctx))
	if err != nil || len(users) < 10 {
		t.Errorf("listed %d users, err %v; want the small seed", len(users), err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after interrupt, stderr %q", code, stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), key) {
		t.Error("the admin key was printed")
	}
}

func TestEmulatorCommandErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"emulator"}, nil, "set --admin-key or OPENAI_ADMIN_KEY"},
		{[]string{"emulator", "--admin-key", "k", "--seed", "huge"}, nil, `--seed "huge"`},
		{[]string{"emulator", "--admin-key", "k", "--faults", "429=lots"}, nil, "--faults"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, tt.env, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestEmulatorListensOnLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0"} {
		code, _, stderr := runCLI(t, map[string]string{"OPENAI_ADMIN_KEY": "k"}, "emulator", "--addr", addr)
		if code != 2 || !strings.Contains(stderr, "not loopback: add --allow-remote") {
			t.Errorf("--addr %s: exit %d, stderr %q", addr, code, stderr)
		}
	}
	for _, tt := range []struct {
		addr  string
		allow bool
	}{{"127.0.0.1:0", false}, {"[::1]:0", false}, {"localhost:0", false}, {"0.0.0.0:0", true}} {
		if err := checkLoopback(tt.addr, tt.allow); err != nil {
			t.Errorf("checkLoopback(%s, %v) = %v", tt.addr, tt.allow, err)
		}
	}
}

func TestDemoOnlyUnknownStep(t *testing.T) {
	code, stdout, stderr := runCLI(t, nil, "demo", "--only", "nope")
	if code != 2 || !strings.Contains(stderr, `--only "nope": no such step (steps: `) || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

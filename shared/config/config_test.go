package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"15m", 15 * time.Minute, false},
		{"14d", 14 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"0d", 0, false},
		{"d", 0, true},
		{"-1d", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestReadCommonDefaults(t *testing.T) {
	r := NewReader(MapEnv(map[string]string{"OPENAI_ADMIN_KEY": "k"}))
	c := ReadCommon(r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != DefaultBaseURL || c.MaxConcurrency != 8 || c.RateLimit != 20 ||
		c.MaxRetries != 6 || c.MaxDeletions != 25 || c.DryRun || c.Rules.AllowOwners || c.ReportBucket != "" || c.ReportPrefix != "orgwarden-reports/" {
		t.Errorf("unexpected defaults: %+v", c)
	}
}

func TestReadCommonValues(t *testing.T) {
	r := NewReader(MapEnv(map[string]string{
		"OPENAI_BASE_URL":             "http://127.0.0.1:8787/v1",
		"OPENAI_ADMIN_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x",
		"ORGWARDEN_DRY_RUN":           "yes",
		"ORGWARDEN_PROTECTED_EMAILS":  " a@x.com, ,b@x.com ",
		"ORGWARDEN_PROTECTED_DOMAINS": "corp.com",
		"ORGWARDEN_ALLOW_OWNERS":      "true",
		"ORGWARDEN_MAX_DELETIONS":     "0",
		"ORGWARDEN_HTTP_TIMEOUT":      "1m",
		"ORGWARDEN_REPORT_BUCKET":     "state",
		"ORGWARDEN_REPORT_PREFIX":     "runs/",
	}))
	c := ReadCommon(r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if !c.DryRun || !c.Rules.AllowOwners || c.MaxDeletions != 0 || c.HTTPTimeout != time.Minute || c.ReportBucket != "state" || c.ReportPrefix != "runs/" {
		t.Errorf("values not read: %+v", c)
	}
	if got := strings.Join(c.Rules.Emails, "|"); got != "a@x.com|b@x.com" {
		t.Errorf("emails = %q", got)
	}
}

func TestReadCommonReportsEveryProblem(t *testing.T) {
	r := NewReader(MapEnv(map[string]string{
		"OPENAI_BASE_URL":           "ftp://x",
		"ORGWARDEN_DRY_RUN":         "perhaps",
		"ORGWARDEN_MAX_CONCURRENCY": "0",
		"ORGWARDEN_RATE_LIMIT":      "fast",
		"ORGWARDEN_HTTP_TIMEOUT":    "1y",
		"ORGWARDEN_LOG_LEVEL":       "loud",
	}))
	ReadCommon(r)
	err := r.Err()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, name := range []string{"OPENAI_BASE_URL", "ORGWARDEN_DRY_RUN", "ORGWARDEN_MAX_CONCURRENCY",
		"ORGWARDEN_RATE_LIMIT", "ORGWARDEN_HTTP_TIMEOUT", "ORGWARDEN_LOG_LEVEL", "OPENAI_ADMIN_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestAdminKeyNeverInErrors(t *testing.T) {
	key := "sk-admin-" + strings.Repeat("x", 30)
	r := NewReader(MapEnv(map[string]string{"OPENAI_ADMIN_KEY": key, "OPENAI_ADMIN_KEY_SECRET_ARN": "arn"}))
	ReadCommon(r)
	err := r.Err()
	if err == nil || strings.Contains(err.Error(), key) {
		t.Fatalf("want an error without the key, got %v", err)
	}
}

func TestRequiredAndList(t *testing.T) {
	r := NewReader(MapEnv(map[string]string{"L": "a,,b"}))
	if got := r.List("L"); len(got) != 2 {
		t.Errorf("List = %v", got)
	}
	r.Required("MISSING")
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "MISSING: is required") {
		t.Errorf("Required error = %v", err)
	}
}

func TestFormatDays(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{5 * time.Hour, "5h"},
		{24 * time.Hour, "1d"},
		{90*24*time.Hour + 23*time.Hour, "90d"},
	} {
		if got := FormatDays(tt.d); got != tt.want {
			t.Errorf("FormatDays(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

func load(t *testing.T, env map[string]string) (*Deps, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	d, err := Load(context.Background(), "test", config.NewReader(config.MapEnv(env)), Options{Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	return d, &out
}

func TestMaxRetriesZeroMeansNoRetry(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{})
	tests := []struct {
		retries string
		want    int // requests sent for one failing call
	}{
		{"0", 1},
		{"2", 3},
	}
	for _, tt := range tests {
		d, _ := load(t, map[string]string{"OPENAI_BASE_URL": srv.URL, "OPENAI_ADMIN_KEY": srv.AdminKey,
			"ORGWARDEN_MAX_RETRIES": tt.retries, "ORGWARDEN_MAX_RETRY_DELAY": "0s"})
		c, err := d.AdminClient(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		srv.Emulator.ResetRequests()
		srv.Emulator.InjectFault(adminapi.Rule{Method: "GET", PathPattern: "/organization/users", Status: 500, Count: 10})
		if _, err := adminclient.Collect(c.Users(context.Background())); err == nil {
			t.Fatal("want an error")
		}
		srv.Emulator.ClearFaults()
		if got := len(srv.Emulator.Requests()); got != tt.want {
			t.Errorf("ORGWARDEN_MAX_RETRIES=%s: %d requests, want %d", tt.retries, got, tt.want)
		}
	}
}

func TestDryRunCanOnlyBeAddedPerRun(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{})
	for _, tt := range []struct {
		configured string
		perRun     bool
		want       bool
	}{
		{"false", false, false},
		{"false", true, true},
		{"true", false, true},
	} {
		d, _ := load(t, map[string]string{"OPENAI_BASE_URL": srv.URL, "OPENAI_ADMIN_KEY": srv.AdminKey, "ORGWARDEN_DRY_RUN": tt.configured})
		c, err := d.AdminClient(context.Background(), tt.perRun)
		if err != nil {
			t.Fatal(err)
		}
		if c.DryRun() != tt.want {
			t.Errorf("configured %s, per run %v: dry run %v", tt.configured, tt.perRun, c.DryRun())
		}
	}
}

func TestLoadReportsEveryProblemWithoutTheKey(t *testing.T) {
	key := "sk-admin-" + strings.Repeat("z", 32)
	_, err := Load(context.Background(), "test", config.NewReader(config.MapEnv(map[string]string{
		"OPENAI_ADMIN_KEY": key, "OPENAI_ADMIN_KEY_SECRET_ARN": "arn:x", "ORGWARDEN_RATE_LIMIT": "fast",
	})), Options{Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "ORGWARDEN_RATE_LIMIT") || !strings.Contains(err.Error(), "OPENAI_ADMIN_KEY") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), key) {
		t.Fatal("the error contains the key")
	}
}

func TestMetricsAndLogsGoToOut(t *testing.T) {
	d, out := load(t, map[string]string{"OPENAI_ADMIN_KEY": "k"})
	m := d.Metrics()
	m.Count("Things", 3)
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	d.Log.Info("hello")
	s := out.String()
	if !strings.Contains(s, `"Things":3`) || !strings.Contains(s, `"function":"test"`) || !strings.Contains(s, `"message":"hello"`) {
		t.Errorf("out = %s", s)
	}
}

func TestSummaryPublisherGetsTheReportBucket(t *testing.T) {
	d, _ := load(t, map[string]string{"OPENAI_ADMIN_KEY": "k", "ORGWARDEN_REPORT_BUCKET": "state", "ORGWARDEN_REPORT_PREFIX": "runs/", "ORGWARDEN_SUMMARY_BUS": "bus"})
	p := d.Summary()
	if p.ReportBucket != "state" || p.ReportPrefix != "runs/" || p.Reports == nil || p.Bus != "bus" || p.Events == nil || p.Function != "test" {
		t.Errorf("publisher %+v", p)
	}
	// Without AWS clients (a local preview), the publisher holds no typed
	// nil client that would look configured.
	bare := (&Deps{Function: "f", Log: d.Log}).Summary()
	if bare.Events != nil || bare.Reports != nil {
		t.Errorf("publisher without clients %+v", bare)
	}
}

package snapshot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/secrets"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// emf returns the value of every metric in the EMF lines of out.
func emf(t *testing.T, out string) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatal(err)
		}
		for k, v := range doc {
			if f, ok := v.(float64); ok {
				got[k] = f
			}
		}
	}
	return got
}

func TestHandlerPublishesMetricsAndSummary(t *testing.T) {
	seed := adminapi.SmallSeed(3)
	srv := adminapitest.New(t, adminapi.Options{Seed: &seed})
	tests := []struct {
		name      string
		key       string
		failStore bool
		want      map[string]float64
	}{
		{"written", srv.AdminKey, false, map[string]float64{snapshot.MetricSnapshots: 1, snapshot.MetricFailed: 0, snapshot.MetricObjects: 13}},
		{"refused key", "sk-admin-refused-0123456789abcdef", false, map[string]float64{snapshot.MetricFailed: 1}},
		{"store down", srv.AdminKey, true, map[string]float64{snapshot.MetricFailed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			deps := &app.Deps{Function: snapshot.Function, Common: config.Common{BaseURL: srv.URL, MaxRetries: -1, OrgID: "org-fn"},
				Log: logging.New(&out, slog.LevelInfo), Out: &out, Keys: secrets.Static{Value: logging.Secret(tt.key)}}
			store := newMemStore()
			if tt.failStore {
				store.failCreate = func(string) error { return fmt.Errorf("injected outage") }
			}
			h := snapshot.New(deps, snapshot.Config{OrgID: "org-fn", Bucket: "b", Prefix: "p"}, snapshot.WithStore(store), snapshot.WithClock(srv.Emulator.Now))
			res, err := h.Handle(context.Background(), snapshot.Event{})
			if (err != nil) != (tt.want[snapshot.MetricFailed] == 1) {
				t.Fatalf("err %v, result %+v", err, res)
			}
			got := emf(t, out.String())
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v\n%s", k, got[k], v, out.String())
				}
			}
			if tt.want[snapshot.MetricFailed] == 1 {
				if res.Outcome != snapshot.Failed || len(res.Errors) == 0 {
					t.Errorf("failed run's result %+v", res)
				}
				for k := range store.objects {
					if strings.Contains(k, "_manifests") {
						t.Errorf("a failed run wrote %s", k)
					}
				}
			}
			if !strings.Contains(out.String(), `"kind":"inventory"`) {
				t.Errorf("no summary line:\n%s", out.String())
			}
			if strings.Contains(out.String(), tt.key) {
				t.Fatal("the admin key is in the function's output")
			}
		})
	}
}

func TestReadConfigNamesEveryProblem(t *testing.T) {
	r := config.NewReader(config.MapEnv(map[string]string{"ORGWARDEN_AUDIT_BUCKET": "Not_A_Bucket", "ORGWARDEN_INVENTORY_PREFIX": "a/_hidden"}))
	snapshot.ReadConfig(r)
	err := r.Err()
	for _, want := range []string{"ORGWARDEN_ORG_ID", "ORGWARDEN_AUDIT_BUCKET", "ORGWARDEN_INVENTORY_PREFIX"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

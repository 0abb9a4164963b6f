package e2e_test

import (
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/e2e/harness"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// TestInitErrors: a function whose configuration is wrong reports it to
// the Runtime API's /init/error (Lambda shows the reason, not a bare exit),
// names the variable, and keeps failing on every cold start. The admin key
// is in its environment too (a local-style OPENAI_ADMIN_KEY) and must not
// appear anywhere; the logbook scan checks every line.
func TestInitErrors(t *testing.T) {
	tests := []struct {
		function, variable, value string
	}{
		{"auditexport", "ORGWARDEN_AUDIT_BUCKET", ""},
		{"offboarding", "ORGWARDEN_DLQ_URL", ""},
		{"keyrotation", "ORGWARDEN_ROTATION_GRACE", "forever"},
		{"invitecleanup", "ORGWARDEN_INVITE_MAX_AGE", "-3d"},
		{"inventory", "ORGWARDEN_INVENTORY_PREFIX", "a/_hidden"},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			d := deploy(t, deployOptions{})
			key := d.current(t, d.Res.AdminKeySecretARN).APIKey
			fn := d.function(tt.function, harness.FunctionOptions{Env: map[string]string{tt.variable: tt.value, "OPENAI_ADMIN_KEY": key}})
			for attempt := 1; attempt <= 2; attempt++ {
				res := fn.invoke(`{}`, runtimeapi.InvokeOptions{})
				if res.ErrorType != "Runtime.InitError" || !strings.Contains(res.ErrorMessage, tt.variable) {
					t.Fatalf("attempt %d: %s %q, want Runtime.InitError naming %s", attempt, res.ErrorType, res.ErrorMessage, tt.variable)
				}
				if strings.Contains(res.ErrorMessage, key) || strings.Contains(string(res.Payload), key) {
					t.Fatal("the init error carries the admin key")
				}
			}
			if fn.ColdStarts() != 2 {
				t.Errorf("%d cold starts for two invocations of a function that cannot start", fn.ColdStarts())
			}
			fn.waitLine("init failed")
			if len(d.Emulator.Requests()) != 0 {
				t.Errorf("a function that failed init sent %d requests", len(d.Emulator.Requests()))
			}
		})
	}
}

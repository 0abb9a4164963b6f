package crosscheck

import (
	"encoding/json"
	"testing"

	"github.com/orgwarden/orgwarden/functions/invitecleanup/cleanup"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard"
	"github.com/orgwarden/orgwarden/infra/summaryrule"
	"github.com/orgwarden/orgwarden/shared/summary"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

// matches evaluates the subset of EventBridge's pattern language the
// summary rule uses: nested objects, value lists, numeric comparison,
// exists, and $or.
func matches(pattern, event map[string]any) bool {
	for key, want := range pattern {
		if key == "$or" {
			matched := false
			for _, alt := range want.([]any) {
				if matches(alt.(map[string]any), event) {
					matched = true
				}
			}
			if !matched {
				return false
			}
			continue
		}
		got, present := event[key]
		switch w := want.(type) {
		case map[string]any:
			obj, ok := got.(map[string]any)
			if !ok || !matches(w, obj) {
				return false
			}
		case []any:
			if !matchesValue(w, got, present) {
				return false
			}
		}
	}
	return true
}

func matchesValue(alternatives []any, got any, present bool) bool {
	values := []any{got}
	if list, ok := got.([]any); ok {
		values = list
		present = present && len(list) > 0
	}
	for _, alt := range alternatives {
		if m, ok := alt.(map[string]any); ok {
			if e, ok := m["exists"]; ok && e == present {
				return true
			}
			if n, ok := m["numeric"].([]any); ok && n[0] == ">" {
				for _, v := range values {
					if f, ok := v.(float64); ok && f > toFloat(n[1]) {
						return true
					}
				}
			}
			continue
		}
		for _, v := range values {
			if present && v == alt {
				return true
			}
		}
	}
	return false
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// event is what shared/summary puts on the bus for a function's summary.
func event(t *testing.T, function string, s any) map[string]any {
	t.Helper()
	detail, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(detail, &d); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"source": summary.Source, "detail-type": summary.DetailType(function), "detail": d}
}

// TestSummaryRuleMatchesWhatMatters feeds the functions' own summary types
// to the stack's rule pattern: runs that changed something, failed or
// exceeded a cap reach people; quiet runs and previews within the cap do not.
func TestSummaryRuleMatchesWhatMatters(t *testing.T) {
	pattern := normalize(t, summaryrule.Pattern)
	tests := []struct {
		name     string
		function string
		summary  any
		want     bool
	}{
		{"sweep revoked keys", rotation.Function, rotation.SweepSummary{Counts: rotation.Counts{Revoked: 2}}, true},
		{"sweep failed to revoke", rotation.Function, rotation.SweepSummary{Counts: rotation.Counts{Failed: 1}}, true},
		{"sweep preview over the cap", rotation.Function, rotation.SweepSummary{Header: summary.Header{DryRun: true}, Keys: sweep.Result{CapExceeded: true}, Counts: rotation.Counts{Reported: 40}}, true},
		{"sweep with errors", rotation.Function, rotation.SweepSummary{Errors: []string{"list projects: 500"}}, true},
		{"quiet sweep", rotation.Function, rotation.SweepSummary{Counts: rotation.Counts{Skipped: 3}}, false},
		{"sweep preview within the cap", rotation.Function, rotation.SweepSummary{Header: summary.Header{DryRun: true}, Counts: rotation.Counts{Reported: 4}}, false},
		{"invites deleted", cleanup.Function, cleanup.Summary{Counts: cleanup.Counts{Deleted: 3}}, true},
		{"invite cleanup over the cap", cleanup.Function, cleanup.Summary{Invites: sweep.Result{CapExceeded: true}}, true},
		{"quiet invite cleanup", cleanup.Function, cleanup.Summary{}, false},
		{"rotation finished", rotation.Function, rotation.RotationSummary{StepResult: rotation.StepResult{Step: "finishSecret", Outcome: rotation.OutcomeDone}}, true},
		{"rotation step failed", rotation.Function, rotation.RotationSummary{StepResult: rotation.StepResult{Step: "createSecret", Outcome: rotation.OutcomeFailed, Error: "x"}}, true},
		{"rotation test passed", rotation.Function, rotation.RotationSummary{StepResult: rotation.StepResult{Step: "testSecret", Outcome: rotation.OutcomeDone}}, false},
		{"configuration test at deploy", rotation.Function, rotation.RotationSummary{StepResult: rotation.StepResult{Step: "testSecret", Outcome: rotation.OutcomeNothingToDo}}, false},
		{"person offboarded", offboard.Function, offboard.Summary{Outcome: "offboarded"}, true},
		{"offboarding refused", offboard.Function, offboard.Summary{Outcome: "refused", DeadLettered: true}, true},
		{"offboarding preview", offboard.Function, offboard.Summary{Outcome: "dry_run", DryRun: true}, false},
		{"export failed", "auditexport", map[string]any{"run_id": "r", "error": "list audit logs: 500"}, true},
		{"export ran", "auditexport", map[string]any{"run_id": "r", "events": 12}, false},
	}
	for _, tt := range tests {
		if got := matches(pattern, event(t, tt.function, tt.summary)); got != tt.want {
			t.Errorf("%s: matched %v, want %v (%s)", tt.name, got, tt.want, mustJSON(t, tt.summary))
		}
	}
}

// normalize turns the pattern into what CloudFormation receives (JSON).
func normalize(t *testing.T, v any) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, v)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Package summaryrule is the EventBridge pattern that routes orgwarden's run
// summaries to people. It is plain Go (no CDK) so that infra/crosscheck can
// match it against the summaries the functions really publish.
package summaryrule

import "github.com/orgwarden/orgwarden/shared/summary"

// Pattern matches the run summaries that reach people: a run that
// changed something, failed, or exceeded a cap. shared/summary has no common
// field saying so, so it matches each function's own fields (docs: the
// functions' summaries) and the outcome of per-message summaries:
//   - keyrotation sweep: counts.revoked, counts.failed, keys.cap_exceeded, errors
//   - invitecleanup: counts.deleted, counts.failed, invites.cap_exceeded, errors
//   - keyrotation rotation step: outcome failed, error, and a finishSecret done
//   - offboarding: outcome (failed, offboarded, incomplete, refused), error,
//     dead_lettered
//   - auditexport: error
//
// A dry run changes nothing, but its planned deletions held by the cap are
// exactly what an operator must see, so dry runs are not excluded.
var Pattern = map[string]any{
	"source": []any{summary.Source},
	"$or": []any{
		detail("counts", "revoked", positive()),
		detail("counts", "deleted", positive()),
		detail("counts", "failed", positive()),
		detail("keys", "cap_exceeded", []any{true}),
		detail("invites", "cap_exceeded", []any{true}),
		detail("errors", "", exists()),
		detail("error", "", exists()),
		detail("dead_lettered", "", []any{true}),
		detail("outcome", "", []any{"failed", "offboarded", "incomplete", "refused"}),
		// A rotation changes a key once, at finishSecret; its other steps
		// would only repeat it.
		map[string]any{"detail": map[string]any{"step": []any{"finishSecret"}, "outcome": []any{"done"}}},
	},
}

func positive() []any { return []any{map[string]any{"numeric": []any{">", 0}}} }
func exists() []any   { return []any{map[string]any{"exists": true}} }

// detail is {"detail": {field: match}} or {"detail": {field: {sub: match}}}.
func detail(field, sub string, match []any) map[string]any {
	var v any = match
	if sub != "" {
		v = map[string]any{sub: match}
	}
	return map[string]any{"detail": map[string]any{field: v}}
}

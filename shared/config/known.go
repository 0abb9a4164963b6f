package config

import (
	"slices"
	"strings"
)

// Prefix starts every variable orgwarden itself defines.
const Prefix = "ORGWARDEN_"

// Known is the one registry of the ORGWARDEN_* variables orgwarden reads,
// each with who reads it. A variable with the prefix that is not listed
// here is refused at start (CheckNames): a typo such as ORGWARDEN_DRYRUN
// would otherwise be ignored and turn a preview into a real run.
//
// A new variable must be added here; TestKnownCoversEveryVariableRead
// fails until it is.
var Known = map[string]string{
	// Every function (ReadCommon).
	"ORGWARDEN_DRY_RUN":            "all",
	"ORGWARDEN_MAX_CONCURRENCY":    "all",
	"ORGWARDEN_RATE_LIMIT":         "all",
	"ORGWARDEN_HTTP_TIMEOUT":       "all",
	"ORGWARDEN_MAX_RETRIES":        "all",
	"ORGWARDEN_MAX_RETRY_DELAY":    "all",
	"ORGWARDEN_LOG_LEVEL":          "all",
	"ORGWARDEN_SUMMARY_BUS":        "all",
	"ORGWARDEN_MAX_DELETIONS":      "all",
	"ORGWARDEN_PROTECTED_EMAILS":   "all",
	"ORGWARDEN_PROTECTED_DOMAINS":  "all",
	"ORGWARDEN_PROTECTED_IDS":      "all",
	"ORGWARDEN_PROTECTED_NAMES":    "all",
	"ORGWARDEN_PROTECTED_PROJECTS": "all",
	"ORGWARDEN_ALLOW_OWNERS":       "all",
	"ORGWARDEN_ORG_ID":             "all",
	"ORGWARDEN_REPORT_BUCKET":      "all",
	"ORGWARDEN_REPORT_PREFIX":      "all",

	// keyrotation.
	"ORGWARDEN_STALE_KEY_UNUSED":              "keyrotation",
	"ORGWARDEN_STALE_KEY_NEVER_USED":          "keyrotation",
	"ORGWARDEN_ADMIN_KEY_UNUSED":              "keyrotation",
	"ORGWARDEN_REVOKE_ADMIN_KEYS":             "keyrotation",
	"ORGWARDEN_DELETE_STALE_SERVICE_ACCOUNTS": "keyrotation",
	"ORGWARDEN_ROTATION_GRACE":                "keyrotation",
	"ORGWARDEN_MANAGED_SECRET_ARNS":           "keyrotation",
	"ORGWARDEN_ROTATION_DRY_RUN":              "keyrotation",

	// invitecleanup.
	"ORGWARDEN_INVITE_MAX_AGE": "invitecleanup",

	// auditexport (and `orgwarden verify`).
	"ORGWARDEN_AUDIT_BUCKET":            "auditexport",
	"ORGWARDEN_AUDIT_PREFIX":            "auditexport",
	"ORGWARDEN_AUDIT_STATE_BUCKET":      "auditexport",
	"ORGWARDEN_AUDIT_KMS_KEY_ID":        "auditexport",
	"ORGWARDEN_AUDIT_STATE_KMS_KEY_ID":  "auditexport",
	"ORGWARDEN_AUDIT_LOOKBACK":          "auditexport",
	"ORGWARDEN_AUDIT_SLICE_CONCURRENCY": "auditexport",
	"ORGWARDEN_AUDIT_ROLLOVER_BYTES":    "auditexport",
	"ORGWARDEN_AUDIT_ROLLOVER_EVENTS":   "auditexport",
	"ORGWARDEN_AUDIT_TENANT_EVENTS":     "auditexport",
	// auditexport's detections (functions/auditexport/detect).
	"ORGWARDEN_DETECT":                 "auditexport",
	"ORGWARDEN_DETECT_BUS":             "auditexport",
	"ORGWARDEN_DETECT_ALLOWED_DOMAINS": "auditexport",
	"ORGWARDEN_DETECT_ASFF":            "auditexport",
	"ORGWARDEN_DETECT_JOURNAL_BUCKET":  "auditexport",
	"ORGWARDEN_DETECT_JOURNAL_PREFIX":  "auditexport",

	// inventory (and `orgwarden report access`, `orgwarden verify --inventory`).
	"ORGWARDEN_INVENTORY_PREFIX": "inventory",

	// offboarding (and `orgwarden restore`).
	"ORGWARDEN_JOURNAL_BUCKET": "offboarding",
	"ORGWARDEN_JOURNAL_PREFIX": "offboarding",
	"ORGWARDEN_DLQ_URL":        "offboarding",

	// policyguard.
	"ORGWARDEN_POLICY": "policyguard",

	// Tests, benchmarks and the contract suite: set in a developer's shell
	// while the CLI or a function runs in the same process.
	"ORGWARDEN_E2E":                     "tests",
	"ORGWARDEN_E2E_DIR":                 "tests",
	"ORGWARDEN_HOST_ONLY":               "tests",
	"ORGWARDEN_OPENAPI_SPEC":            "tests",
	"ORGWARDEN_SOAK_RUNS":               "tests",
	"ORGWARDEN_SOAK_SEED":               "tests",
	"ORGWARDEN_BENCH_EVENTS":            "tests",
	"ORGWARDEN_BENCH_NO_BASELINE":       "tests",
	"ORGWARDEN_BENCH_NO_REFERENCES":     "tests",
	"ORGWARDEN_AUDITEXPORT_BENCH_CHILD": "tests",
}

// namesKey is the name a Lookup built by OSEnv or MapEnv answers with every
// variable name it holds, NUL-separated. No environment variable can have
// this name (it contains NUL), so it never shadows a real one; a Lookup
// that does not know it answers "unset", and CheckNames then has nothing to
// check.
const namesKey = "\x00names"

// Names returns the names of the variables lookup holds, sorted, or nil
// when lookup cannot enumerate them.
func Names(lookup Lookup) []string {
	v, ok := lookup(namesKey)
	if !ok || v == "" {
		return nil
	}
	names := strings.Split(v, "\x00")
	slices.Sort(names)
	return names
}

// CheckNames refuses every ORGWARDEN_* variable in lookup that no function
// reads, naming the nearest known one. It returns nil when lookup cannot
// list its variables.
func CheckNames(lookup Lookup) error {
	r := NewReader(lookup)
	r.checkNames()
	return r.Err()
}

func (r *Reader) checkNames() {
	for _, name := range Names(r.lookup) {
		if !strings.HasPrefix(name, Prefix) {
			continue
		}
		if _, ok := Known[name]; ok {
			continue
		}
		if near := Nearest(name); near != "" {
			r.Fail(name, "no orgwarden function reads this variable; did you mean %s? (unset it or fix the name)", near)
		} else {
			r.Fail(name, "no orgwarden function reads this variable (unset it or fix the name)")
		}
	}
}

// Nearest returns the known variable closest to name by edit distance, or
// "" when none is reasonably close.
func Nearest(name string) string {
	best, bestD := "", -1
	for k := range Known {
		d := editDistance(strings.ToUpper(name), k)
		if bestD < 0 || d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	// Beyond a third of the name, a suggestion is noise.
	if bestD < 0 || bestD > max(2, len(strings.TrimPrefix(name, Prefix))/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

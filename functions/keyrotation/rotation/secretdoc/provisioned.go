package secretdoc

import (
	"encoding/json"
	"strings"
)

// PlaceholderField is the field of the random value CloudFormation generates
// when the stack creates a rotated secret (infra/rotatedsecret): the template
// never carries key material, so the secret starts with no api_key until an
// operator stores one.
const PlaceholderField = "bootstrap_placeholder"

// Unprovisioned reports whether a secret value is the stack's placeholder:
// it has PlaceholderField and no api_key.
func Unprovisioned(secretString string) bool {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(secretString), &fields); err != nil {
		return false
	}
	if _, ok := fields[PlaceholderField]; !ok {
		return false
	}
	var key string
	if raw, ok := fields["api_key"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &key); err != nil {
			return false
		}
	}
	return strings.TrimSpace(key) == ""
}

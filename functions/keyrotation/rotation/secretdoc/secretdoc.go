// Package secretdoc reads and writes what a secret managed by the key
// rotation holds: its value, a JSON document naming the credential
// (docs/architecture.md, "Secret formats"), and its retirement tags, which
// record rotated-out credentials to delete once their grace period is over.
//
// Secret values come from outside (people create secrets by hand), so the
// parser is strict about what rotation needs and never echoes the document
// in an error: it may hold a key.
package secretdoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/secrets"
)

// Secret types (the document's "type").
const (
	TypeAdminKey          = secrets.TypeAdminKey
	TypeServiceAccountKey = secrets.TypeServiceAccountKey
)

// Doc is a managed secret's value.
type Doc struct {
	Type   string
	APIKey logging.Secret
	KeyID  string

	// Service-account keys only.
	ProjectID          string
	ServiceAccountID   string
	ServiceAccountName string

	// extra keeps fields this package does not know, so a rotation does not
	// drop what an operator stored beside the key.
	extra map[string]json.RawMessage
}

var known = []string{"type", "api_key", "key_id", "project_id", "service_account_id", "service_account_name"}

// Parse reads a secret string. Errors name the missing or malformed field,
// never its value.
func Parse(secretString string) (Doc, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(secretString), &fields); err != nil || fields == nil {
		return Doc{}, errors.New("secret value is not a JSON object")
	}
	str := func(name string) (string, error) {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("secret field %q is not a string", name)
		}
		return strings.TrimSpace(s), nil
	}
	var d Doc
	var errs []error
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"type", &d.Type}, {"key_id", &d.KeyID}, {"project_id", &d.ProjectID},
		{"service_account_id", &d.ServiceAccountID}, {"service_account_name", &d.ServiceAccountName},
	} {
		v, err := str(f.name)
		errs = append(errs, err)
		*f.dst = v
	}
	key, err := str("api_key")
	errs = append(errs, err)
	d.APIKey = logging.Secret(key)
	if err := errors.Join(errs...); err != nil {
		return Doc{}, err
	}
	d.extra = map[string]json.RawMessage{}
	for k, v := range fields {
		if !slices.Contains(known, k) {
			d.extra[k] = v
		}
	}
	return d, d.Validate()
}

// Validate checks that the document has what its type needs.
func (d Doc) Validate() error {
	var missing []string
	need := func(name, v string) {
		if v == "" {
			missing = append(missing, name)
		}
	}
	switch d.Type {
	case TypeAdminKey:
		need("api_key", d.APIKey.Reveal())
	case TypeServiceAccountKey:
		need("api_key", d.APIKey.Reveal())
		need("project_id", d.ProjectID)
		need("service_account_id", d.ServiceAccountID)
	case "":
		return fmt.Errorf("secret has no \"type\" (want %q or %q)", TypeAdminKey, TypeServiceAccountKey)
	default:
		return fmt.Errorf("secret type %q is not rotated by orgwarden (want %q or %q)", logging.Redact(d.Type), TypeAdminKey, TypeServiceAccountKey)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s secret lacks %s", d.Type, strings.Join(missing, ", "))
	}
	return nil
}

// CredentialID is what a rotation replaces and later deletes: the admin
// key for admin_key secrets, the service account (and with it its keys)
// for service_account_key secrets.
func (d Doc) CredentialID() string {
	if d.Type == TypeServiceAccountKey {
		return d.ServiceAccountID
	}
	return d.KeyID
}

// Marshal encodes the document for PutSecretValue. It reveals the key on
// purpose: Secrets Manager is the one place it is stored.
func (d Doc) Marshal() (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	out := make(map[string]any, len(d.extra)+len(known))
	for k, v := range d.extra {
		out[k] = v
	}
	set := func(name, v string) {
		if v != "" {
			out[name] = v
		}
	}
	set("type", d.Type)
	set("api_key", d.APIKey.Reveal())
	set("key_id", d.KeyID)
	set("project_id", d.ProjectID)
	set("service_account_id", d.ServiceAccountID)
	set("service_account_name", d.ServiceAccountName)
	b, err := json.Marshal(out)
	if err != nil {
		return "", errors.New("encode secret value")
	}
	return string(b), nil
}

// Extra returns a copy of the fields this package does not interpret.
func (d Doc) Extra() map[string]json.RawMessage { return maps.Clone(d.extra) }

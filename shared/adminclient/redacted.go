package adminclient

import "github.com/orgwarden/orgwarden/shared/logging"

// RedactedMatches reports whether a key object's redacted_value
// ("sk-admin...abcd": the key's first and last characters) could be the
// redaction of key. It is how a secret's key_id is proven to name the key
// its api_key holds: the API never returns a key's value again.
func RedactedMatches(redacted string, key logging.Secret) bool {
	return redactedMatches(redacted, key.Reveal())
}

package rotation

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// adminKeyBase names the admin keys a rotation mints.
const adminKeyBase = "orgwarden-admin"

// A credential minted by a rotation is named after its secret and the
// rotation's request token: "<base>.rot-<8 hex of the secret ARN>-<12 hex of
// the token>", e.g. "billing-app.rot-3f9a1c2b-7d2e9f01a4c3".
//
// A key's value is shown only in the create response. If that response is
// lost, the key exists and nobody can use it; the only way to find it again
// is its name. The token part finds the orphan of a retried step; the
// secret part bounds the clean-up to this secret's credentials, so two
// secrets rotating service accounts of the same name in one project never
// touch each other's. Hashes keep names short and free of whatever
// characters a hand-written token might hold.
func credentialName(base, secretARN, token string) string {
	return credentialPrefix(base, secretARN) + shortHash(token, 6)
}

// credentialPrefix is what every credential minted for this secret starts with.
func credentialPrefix(base, secretARN string) string {
	return base + ".rot-" + shortHash(secretARN, 4) + "-"
}

// baseName strips a rotation suffix for this secret from name, so a
// service account's original name survives any number of rotations even
// when the secret does not record it.
func baseName(name, secretARN string) string {
	marker := ".rot-" + shortHash(secretARN, 4) + "-"
	if i := strings.LastIndex(name, marker); i > 0 {
		return name[:i]
	}
	return name
}

func shortHash(s string, bytes int) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:bytes])
}

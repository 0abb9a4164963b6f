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
	return base + credentialSuffix(secretARN, token)
}

// credentialSuffix ends the name of every credential minted for this secret
// by the rotation with this token.
func credentialSuffix(secretARN, token string) string {
	return ".rot-" + shortHash(secretARN, 4) + "-" + tokenHash(token)
}

// mintedBy reports whether name is that of a credential minted for this
// secret by the rotation with this token: the only credentials a step may
// delete as its own (see ownership in rotate.go).
func mintedBy(name, secretARN, token string) bool {
	base, ok := strings.CutSuffix(name, credentialSuffix(secretARN, token))
	return ok && base != ""
}

// mintedToken returns the token hash in the name of a credential minted for
// this secret by any rotation, and whether name is one.
func mintedToken(name, secretARN string) (string, bool) {
	marker := ".rot-" + shortHash(secretARN, 4) + "-"
	i := strings.LastIndex(name, marker)
	if i <= 0 {
		return "", false
	}
	h := name[i+len(marker):]
	if len(h) != 12 {
		return "", false
	}
	return h, true
}

// tokenHash is the part of a minted credential's name that names its token.
func tokenHash(token string) string { return shortHash(token, 6) }

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

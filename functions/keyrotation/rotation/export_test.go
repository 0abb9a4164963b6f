package rotation

// CredentialName is credentialName, for tests that stage what a rotation
// of another token minted.
var CredentialName = credentialName

// MintedForSecret reports whether name is that of a credential a rotation
// of this secret minted, whatever its token.
func MintedForSecret(name, secretARN string) bool {
	_, ok := mintedToken(name, secretARN)
	return ok
}

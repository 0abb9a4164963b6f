package rotation

// CredentialName is credentialName, for tests that stage what a rotation
// of another token minted.
var CredentialName = credentialName

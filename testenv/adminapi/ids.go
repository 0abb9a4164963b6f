package adminapi

import (
	"math/rand/v2"
	"strings"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// idSource makes ids and key values from a seeded generator, so the same
// seed and the same sequence of calls give the same ids.
type idSource struct{ rng *rand.Rand }

func newIDSource(seed uint64) *idSource {
	return &idSource{rng: rand.New(rand.NewPCG(seed, seed^0x5DEECE66D))}
}

func (s *idSource) token(n int) string {
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(alnum[s.rng.IntN(len(alnum))])
	}
	return b.String()
}

func (s *idSource) lowerToken(n int) string { return strings.ToLower(s.token(n)) }

// Prefixes follow the API's: user-, invite-, proj_, svc_acct_, key_, alert_.
func (s *idSource) userID() string    { return "user-" + s.token(24) }
func (s *idSource) inviteID() string  { return "invite-" + s.token(24) }
func (s *idSource) projectID() string { return "proj_" + s.token(24) }
func (s *idSource) saID() string      { return "svc_acct_" + s.token(24) }
func (s *idSource) keyID() string     { return "key_" + s.token(16) }
func (s *idSource) alertID() string   { return "alert_" + s.lowerToken(24) }
func (s *idSource) certID() string    { return "cert_" + s.lowerToken(24) }
func (s *idSource) groupID() string   { return "group_" + s.token(26) }
func (s *idSource) roleID() string    { return "role_" + s.token(26) }

// Key kinds and their value prefixes.
const (
	adminKeyPrefix   = "sk-admin-"
	projectKeyPrefix = "sk-proj-"
	saKeyPrefix      = "sk-svcacct-"
)

func (s *idSource) secret(prefix string) string { return prefix + s.token(48) }

// redact renders a key the way the API lists it: "sk-admin...abcd".
func redact(secret string) string {
	prefix := "sk-"
	for _, p := range []string{adminKeyPrefix, projectKeyPrefix, saKeyPrefix} {
		if strings.HasPrefix(secret, p) {
			prefix = p
		}
	}
	tail := secret
	if len(tail) > 4 {
		tail = tail[len(tail)-4:]
	}
	return strings.TrimSuffix(prefix, "-") + "..." + tail
}

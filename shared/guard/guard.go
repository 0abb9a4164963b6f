// Package guard holds the safety rules every destructive job applies before
// it plans a deletion: protected identities, organization owners, the key
// the job itself uses, and the cap on deletions per run.
//
// Jobs ask the guard while they select what to delete, so the dry run and
// the real run see the same verdicts: whatever the guard refuses never
// enters the plan, and so never reaches a delete call.
package guard

import (
	"errors"
	"fmt"
	"strings"
)

// Protection lists identities that must never be touched. Matching is
// case-insensitive; domains match the part of an email after "@" and its
// subdomains ("example.com" protects "a@eu.example.com").
type Protection struct {
	Emails  []string
	Domains []string
	IDs     []string // user, invite, key, service-account ids
	// Names are key and service-account names. Each covers the keys
	// orgwarden's rotations mint from it ("<name>.rot-<hex>-<hex>"), and
	// AdminKeyBase is always protected.
	Names    []string
	Projects []string // project ids
}

// Subject is something a job is about to change.
type Subject struct {
	Kind      string // "user", "invite", "project_api_key", "admin_api_key", "service_account", ...
	ID        string
	Email     string // the person concerned (user, invite, key owner)
	Name      string // key or service-account name
	ProjectID string
	OrgRole   string // the person's organization role, when known
	Self      bool   // the job's own credential
}

// Rules combines protection with the switches that relax the defaults.
type Rules struct {
	Protection
	// AllowOwners lets a job touch organization owners.
	AllowOwners bool
	// AllowSelf lets a job touch the admin key it is itself using.
	AllowSelf bool
	// Confirmed, when set, limits a run's deletions to the plan a person
	// confirmed (see Confirmed). Plans consult it for each deletion they
	// select (sweep.Plan); nil means no limit.
	Confirmed *Confirmed
}

// Verdict says whether a subject may be changed, and if not, why.
type Verdict struct {
	Allowed bool
	Reason  string
}

// Check applies every rule to s. The first rule that refuses wins.
func (r Rules) Check(s Subject) Verdict {
	if s.Self && !r.AllowSelf {
		return refuse("is the admin key this job is using")
	}
	if strings.EqualFold(s.OrgRole, "owner") && !r.AllowOwners {
		return refuse("concerns an organization owner (set ORGWARDEN_ALLOW_OWNERS=true to allow)")
	}
	if why := r.Protection.match(s); why != "" {
		return refuse(why)
	}
	return Verdict{Allowed: true}
}

func refuse(why string) Verdict { return Verdict{Reason: why} }

func (p Protection) match(s Subject) string {
	if s.ID != "" && containsFold(p.IDs, s.ID) {
		return "id " + s.ID + " is protected"
	}
	if s.ProjectID != "" && containsFold(p.Projects, s.ProjectID) {
		return "project " + s.ProjectID + " is protected"
	}
	if s.Name != "" {
		if n, ok := p.protectedName(s.Name); ok {
			if strings.EqualFold(n, s.Name) {
				return "name " + s.Name + " is protected"
			}
			return "name " + s.Name + " is a key orgwarden minted for protected name " + n
		}
	}
	if s.Email != "" {
		if containsFold(p.Emails, s.Email) {
			return "email " + s.Email + " is protected"
		}
		if d, ok := p.domainOf(s.Email); ok {
			return "domain " + d + " is protected"
		}
	}
	return ""
}

// AdminKeyBase is the name orgwarden's own admin key is created under, and
// the base of every admin key a rotation mints. It is always protected, so
// a sweep never revokes the key orgwarden runs on (nor its successor during
// a rotation) by name, whatever the configuration lists.
const AdminKeyBase = "orgwarden-admin"

// protectedName returns the protected name that covers name: the name
// itself, or the base of a key orgwarden minted (MintedFrom). Protecting a
// service account's name therefore protects the keys its rotations mint,
// which carry a suffix.
func (p Protection) protectedName(name string) (string, bool) {
	for _, n := range append([]string{AdminKeyBase}, p.Names...) {
		n = strings.TrimSpace(n)
		if n != "" && (strings.EqualFold(n, name) || MintedFrom(name, n)) {
			return n, true
		}
	}
	return "", false
}

// MintedFrom reports whether name is a credential a rotation minted from
// base: "<base>.rot-<8 hex>-<12 hex>" (functions/keyrotation/rotation,
// credentialName). Only that exact shape matches, so "orgwarden-admin2" or
// "orgwarden-admin.rot-anything" is not covered by "orgwarden-admin".
func MintedFrom(name, base string) bool {
	if len(name) <= len(base) || !strings.EqualFold(name[:len(base)], base) {
		return false
	}
	rest, ok := strings.CutPrefix(name[len(base):], ".rot-")
	if !ok || len(rest) != 8+1+12 || rest[8] != '-' {
		return false
	}
	return isLowerHex(rest[:8]) && isLowerHex(rest[9:])
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ProtectsEmail reports whether the email or its domain is protected.
func (p Protection) ProtectsEmail(email string) bool {
	_, ok := p.domainOf(email)
	return ok || containsFold(p.Emails, email)
}

func (p Protection) domainOf(email string) (string, bool) {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return "", false
	}
	host := strings.ToLower(email[at+1:])
	for _, d := range p.Domains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
			return d, true
		}
	}
	return "", false
}

func containsFold(list []string, s string) bool {
	s = strings.TrimSpace(s)
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// ErrCapExceeded is returned when a run plans more deletions than allowed.
var ErrCapExceeded = errors.New("deletion cap exceeded")

// CheckCap refuses a plan of planned deletions larger than max (max <= 0
// means no deletion at all is allowed). Orgwarden treats an oversized plan
// as a sign that something is wrong (a clock gone astray, a wrong
// organization, a bad threshold) and deletes nothing rather than the first
// max items: the run reports the whole plan and alarms instead.
func CheckCap(planned, max int) error {
	if planned > max {
		return fmt.Errorf("%w: %d deletions planned, at most %d allowed per run (raise ORGWARDEN_MAX_DELETIONS if this is intended)", ErrCapExceeded, planned, max)
	}
	return nil
}

// Confirmed is the plan a person confirmed after a preview: the only
// subjects a real run started from that confirmation may delete. Selection
// runs again for the real run, and the organization can change in between
// (a key goes stale, an invite ages past the threshold); whatever the
// person did not see is left alone, not deleted.
type Confirmed struct {
	keys map[string]bool
}

// NewConfirmed returns the confirmation of the given (kind, id) pairs.
func NewConfirmed() *Confirmed { return &Confirmed{keys: map[string]bool{}} }

// Add records that kind/id was shown and confirmed.
func (c *Confirmed) Add(kind, id string) { c.keys[kind+"\x00"+id] = true }

// Len is the number of confirmed subjects.
func (c *Confirmed) Len() int { return len(c.keys) }

// Covers reports whether s was confirmed. A nil Confirmed covers
// everything: the run needs no confirmation (a schedule, or --yes without
// a preview).
func (c *Confirmed) Covers(s Subject) bool {
	return c == nil || c.keys[s.Kind+"\x00"+s.ID]
}

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
	Emails   []string
	Domains  []string
	IDs      []string // user, invite, key, service-account ids
	Names    []string // key and service-account names
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
		return refuse("concerns an organization owner")
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
	if s.Name != "" && containsFold(p.Names, s.Name) {
		return "name " + s.Name + " is protected"
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

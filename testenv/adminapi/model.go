package adminapi

import (
	"sync/atomic"
	"time"
)

// The store: plain structs guarded by Emulator.mu. Timestamps are Unix
// seconds, as on the wire; 0 means null.

type user struct {
	id, name, email, role string
	addedAt               int64
	technicalLevel        *string
	developerPersona      *string
}

type invite struct {
	id, email, role string
	createdAt       int64
	expiresAt       int64
	acceptedAt      int64
	projects        []InviteProject
}

// status derives what the API reports: a pending invite past its expiry reads as expired.
func (i *invite) status(now int64) string {
	switch {
	case i.acceptedAt != 0:
		return InviteAccepted
	case i.expiresAt != 0 && now >= i.expiresAt:
		return InviteExpired
	default:
		return InvitePending
	}
}

type project struct {
	id, name      string
	createdAt     int64
	archivedAt    int64
	externalKeyID *string
	residency     string
	isDefault     bool

	users      *collection[*projectUser]
	sas        *collection[*serviceAccount]
	keys       *collection[*projectKey]
	rateLimits *collection[*rateLimit]
	alerts     *collection[*spendAlert]
	groups     *collection[*projectGroup]          // by group id
	userRoles  map[string]*collection[*assignment] // project role assignments by user id
	groupRoles map[string]*collection[*assignment] // project role assignments by group id
	modelPerms *modelPerms                         // nil: no policy set
	retention  string
	// toolsDisabled names the hosted tools turned off (nil: all enabled).
	toolsDisabled map[string]bool
	spendLimit    *spendLimit // nil: no hard limit
}

func newProject(id, name string, createdAt int64) *project {
	return &project{
		id: id, name: name, createdAt: createdAt,
		users:      newCollection[*projectUser](),
		sas:        newCollection[*serviceAccount](),
		keys:       newCollection[*projectKey](),
		rateLimits: newCollection[*rateLimit](),
		alerts:     newCollection[*spendAlert](),
		groups:     newCollection[*projectGroup](),
		userRoles:  map[string]*collection[*assignment]{},
		groupRoles: map[string]*collection[*assignment]{},
		retention:  "organization_default",
	}
}

func (p *project) archived() bool { return p.archivedAt != 0 }

func (p *project) status() string {
	if p.archived() {
		return "archived"
	}
	return "active"
}

type projectUser struct {
	userID  string
	role    string // owner | member
	addedAt int64
}

type serviceAccount struct {
	id, name, role string // role: owner | member | none
	createdAt      int64
}

const (
	ownerUser           = "user"
	ownerServiceAccount = "service_account"
)

type projectKey struct {
	id, name, secret string
	createdAt        int64
	lastUsedAt       int64
	ownerType        string // ownerUser | ownerServiceAccount
	ownerID          string
	// What the owner looked like when the key was made, rendered once the
	// owner has left the project or the organization.
	ownerName, ownerEmail string
	ownerCreatedAt        int64
	ownerRole             string
	shape                 Shape
}

type adminKey struct {
	id, name, secret string
	createdAt        int64
	expiresAt        int64
	lastUsedAt       atomic.Int64 // written on every authenticated request, under the read lock
	owner            adminKeyOwner
	shape            Shape
}

type adminKeyOwner struct {
	id, name, email string
	createdAt       int64
}

type rateLimit struct {
	id, model                                  string
	maxRequestsPer1Minute, maxTokensPer1Minute int64
	maxImagesPer1Minute                        *int64
	maxAudioMegabytesPer1Minute                *int64
	maxRequestsPer1Day                         *int64
	batch1DayMaxInputTokens                    *int64
}

type spendAlert struct {
	id              string
	thresholdAmount int64 // cents
	currency        string
	interval        string
	recipients      []string
	subjectPrefix   *string
}

type modelPerms struct {
	mode     string
	modelIDs []string
}

type credKind int

const (
	credAdmin credKind = iota
	credProject
	credServiceAccount
)

// credential is what a bearer value stands for.
type credential struct {
	kind      credKind
	keyID     string
	projectID string
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

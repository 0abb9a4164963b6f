package adminapi

import (
	"fmt"
	"strconv"
)

// Shape changes how one key is rendered, so tests can check that a client
// reads an absent optional field as "unknown", never as zero, "never" or
// whichever owner object happens to be present. Every object keeps its
// shape until SetShape gives it another one (Shape{} restores the normal
// rendering).
type Shape struct {
	// OmitLastUsedAt leaves last_used_at out. The spec makes it optional
	// on admin keys; on project keys it is required (nullable), so there
	// this is off-spec: serve with adminapitest.WithoutValidation.
	OmitLastUsedAt bool
	// OmitOwnerType leaves owner.type out (optional on both kinds of key).
	OmitOwnerType bool
	// OwnerType, when set, is rendered as owner.type instead of the real
	// one, with the owner objects as they are (a user-owned project key
	// that says "service_account", say). A project key's owner.type is an
	// enum (user, service_account): other values are off-spec there.
	OwnerType string
	// OmitOwnerDetail leaves out a project key's owner.user and
	// owner.service_account, or an admin key's owner.id (all optional).
	OmitOwnerDetail bool
}

// SetShape sets the shape of the admin key or project key with this id.
func (e *Emulator) SetShape(keyID string, s Shape) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if k, ok := e.adminKeys.get(keyID); ok {
		k.shape = s
		return nil
	}
	for p := range e.projects.all() {
		if k, ok := p.keys.get(keyID); ok {
			k.shape = s
			return nil
		}
	}
	return fmt.Errorf("set shape: no admin key or project key %s", keyID)
}

// nullInt is an integer field that is nullable and may be left out: a nil
// *nullInt is omitted (omitempty), a nullInt without a value renders null.
type nullInt struct{ v *int64 }

func (n nullInt) MarshalJSON() ([]byte, error) {
	if n.v == nil {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, *n.v, 10), nil
}

// lastUsed renders a last_used_at (0: never used, null) unless omitted.
func lastUsed(at int64, omit bool) *nullInt {
	if omit {
		return nil
	}
	return &nullInt{nullable(at)}
}

func (s Shape) project(b *projectKeyBody) {
	if s.OwnerType != "" {
		b.Owner.Type = s.OwnerType
	}
	if s.OmitOwnerType {
		b.Owner.Type = ""
	}
	if s.OmitOwnerDetail {
		b.Owner.User, b.Owner.ServiceAccount = nil, nil
	}
}

func (s Shape) admin(b *adminKeyBody) {
	if s.OwnerType != "" {
		b.Owner.Type = s.OwnerType
	}
	if s.OmitOwnerType {
		b.Owner.Type = ""
	}
	if s.OmitOwnerDetail {
		b.Owner.ID = ""
	}
}

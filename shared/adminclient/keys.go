package adminclient

import (
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/respjson"
)

// What a key's fields say, read with the SDK's field metadata. The SDK
// reads an absent field as its zero value: an absent last_used_at is 0
// and an absent owner.type is "", neither of which is what the API said.

// UsageState is what a key's last_used_at says.
type UsageState int

const (
	// UsageUnknown: last_used_at is absent, not an integer, or not a
	// plausible time. A key whose usage is unknown is never judged stale
	// for lack of use.
	UsageUnknown UsageState = iota
	// UsageNever: last_used_at is null, the API's "never used".
	UsageNever
	// UsageUsed: last_used_at is a time.
	UsageUsed
)

// Usage is a key's last use.
type Usage struct {
	State UsageState
	At    int64 // Unix seconds, when State is UsageUsed
}

// ProjectKeyUsage reads a project key's last_used_at.
func ProjectKeyUsage(k openai.ProjectAPIKey) Usage { return usage(k.JSON.LastUsedAt, k.LastUsedAt) }

// AdminKeyUsage reads an admin key's last_used_at.
func AdminKeyUsage(k openai.AdminAPIKey) Usage { return usage(k.JSON.LastUsedAt, k.LastUsedAt) }

func usage(f respjson.Field, v int64) Usage {
	switch {
	case f.Valid() && v > 0:
		return Usage{State: UsageUsed, At: v}
	case f.Raw() == respjson.Null:
		return Usage{State: UsageNever}
	}
	return Usage{}
}

// OwnerKind is a key owner's kind, as the key's owner.type says it.
type OwnerKind string

const (
	OwnerUnknown        OwnerKind = ""
	OwnerUser           OwnerKind = "user"
	OwnerServiceAccount OwnerKind = "service_account"
)

// KeyOwner is who owns a key. Its kind comes from owner.type alone, never
// from which owner object happens to be present: a key that says
// "service_account" and carries a user object is not that user's key.
type KeyOwner struct {
	Kind        OwnerKind
	ID          string
	Name, Email string
}

// Known reports whether the key says who owns it: an owner.type this code
// knows, and that owner's id. A key whose owner is unknown is never
// deleted on the ground of who owns it; callers report it.
func (o KeyOwner) Known() bool { return o.Kind != OwnerUnknown && o.ID != "" }

// Is reports whether the owner is known to be this one.
func (o KeyOwner) Is(kind OwnerKind, id string) bool {
	return o.Known() && o.Kind == kind && o.ID == id
}

// ProjectKeyOwner reads a project key's owner.
func ProjectKeyOwner(k openai.ProjectAPIKey) KeyOwner {
	switch OwnerKind(k.Owner.Type) {
	case OwnerUser:
		u := k.Owner.User
		return KeyOwner{Kind: OwnerUser, ID: u.ID, Name: u.Name, Email: u.Email}
	case OwnerServiceAccount:
		sa := k.Owner.ServiceAccount
		return KeyOwner{Kind: OwnerServiceAccount, ID: sa.ID, Name: sa.Name}
	}
	return KeyOwner{}
}

// AdminKeyOwner reads an admin key's owner (a flat object: type and id).
func AdminKeyOwner(k openai.AdminAPIKey) KeyOwner {
	switch kind := OwnerKind(k.Owner.Type); kind {
	case OwnerUser, OwnerServiceAccount:
		return KeyOwner{Kind: kind, ID: k.Owner.ID, Name: k.Owner.Name}
	}
	return KeyOwner{}
}

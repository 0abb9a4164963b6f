package secretdoc

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// RetireTagPrefix starts the tag key that records a rotated-out credential:
// "orgwarden:retire:<credential id>" = "<RFC 3339 UTC time it may be deleted>".
//
// Tags rather than a field of the secret value, because the due time is
// known only when finishSecret promotes the new version, and a version's
// value cannot change after it is written; tags can, they survive any
// container, DescribeSecret returns them in the same call that lists the
// versions, and a person can read and edit them in the console. Tag keys and
// values allow letters, digits, spaces and _ . : / = + - @, which ids and
// RFC 3339 times keep to.
const RetireTagPrefix = "orgwarden:retire:"

// Retirement is a rotated-out credential awaiting deletion.
type Retirement struct {
	// CredentialID is an admin key id or a service account id, per the
	// secret's type.
	CredentialID string    `json:"credential_id"`
	Due          time.Time `json:"due"`
}

// Tag encodes r as a secret tag.
func (r Retirement) Tag() types.Tag {
	return types.Tag{Key: aws.String(RetireTagKey(r.CredentialID)), Value: aws.String(r.Due.UTC().Format(time.RFC3339))}
}

// RetireTagKey is the tag key for a credential id.
func RetireTagKey(credentialID string) string { return RetireTagPrefix + credentialID }

// maxTagKey is Secrets Manager's limit on a tag key's length.
const maxTagKey = 128

// ValidCredentialID reports whether id can be recorded in a tag key.
func ValidCredentialID(id string) bool {
	if id == "" || len(RetireTagPrefix)+len(id) > maxTagKey {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:/=+-@", r)) {
			return false
		}
	}
	return true
}

// Retirements reads the retirement tags among tags, sorted by due time. A
// malformed tag is reported, not guessed at: deleting a credential on a
// misread date is worse than keeping it a little longer.
func Retirements(tags []types.Tag) ([]Retirement, []error) {
	var (
		out  []Retirement
		errs []error
	)
	for _, t := range tags {
		id, ok := strings.CutPrefix(aws.ToString(t.Key), RetireTagPrefix)
		if !ok {
			continue
		}
		if !ValidCredentialID(id) {
			errs = append(errs, fmt.Errorf("retirement tag %q: not a credential id", truncate(aws.ToString(t.Key))))
			continue
		}
		due, err := time.Parse(time.RFC3339, strings.TrimSpace(aws.ToString(t.Value)))
		if err != nil {
			errs = append(errs, fmt.Errorf("retirement tag %q: value %q is not an RFC 3339 time", truncate(aws.ToString(t.Key)), truncate(aws.ToString(t.Value))))
			continue
		}
		// Time.Parse accepts year 0000 with a positive offset, which is year
		// -1 in UTC and has no RFC 3339 form to write back: a tag this job
		// wrote is always a near-future time, so anything outside years
		// 1-9999 is somebody else's.
		if y := due.UTC().Year(); y < 1 || y > 9999 {
			errs = append(errs, fmt.Errorf("retirement tag %q: value %q is outside years 1-9999", truncate(aws.ToString(t.Key)), truncate(aws.ToString(t.Value))))
			continue
		}
		out = append(out, Retirement{CredentialID: id, Due: due.UTC()})
	}
	slices.SortFunc(out, func(a, b Retirement) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.CredentialID, b.CredentialID)
	})
	return out, errs
}

// truncate shortens outside text for an error message and masks any key in it.
func truncate(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return logging.Redact(s)
}

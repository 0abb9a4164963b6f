package secretsmanager

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/awslocal/awsjson"
	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/ids"
)

// Staging labels with a meaning to Secrets Manager itself.
const (
	StageCurrent  = "AWSCURRENT"
	StagePending  = "AWSPENDING"
	StagePrevious = "AWSPREVIOUS"
)

type tag struct{ Key, Value string }

// secret is one secret and all its versions. Every label is attached to at
// most one version; a version without labels is deprecated.
type secret struct {
	seq         int
	arn, name   string
	description string
	kmsKeyID    string
	tags        []tag

	created, lastChanged time.Time
	lastAccessed         time.Time // zero: never read
	deletedDate          time.Time // zero: not scheduled for deletion
	deletionDate         time.Time

	rotationEnabled   bool
	rotationLambdaARN string
	rotationRules     *RotationRules
	lastRotated       time.Time
	rotating          bool // a RotateSecret is running its steps

	versions []*version // creation order
}

type version struct {
	seq          int
	id           string
	secretString *string
	secretBinary []byte
	stages       []string
	created      time.Time
	lastAccessed time.Time
}

func newARN(name string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", awslocal.Region, awslocal.AccountID, name, ids.Alnum(6))
}

func (s *secret) ref() secretRef { return secretRef{s.arn, s.name} }

func (s *secret) deleted() bool { return !s.deletedDate.IsZero() }

func (s *secret) version(id string) *version {
	for _, v := range s.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

// withStage returns the version carrying label, or nil.
func (s *secret) withStage(label string) *version {
	for _, v := range s.versions {
		if v.has(label) {
			return v
		}
	}
	return nil
}

func (v *version) has(label string) bool { return slices.Contains(v.stages, label) }

func (v *version) detach(label string) {
	v.stages = slices.DeleteFunc(v.stages, func(l string) bool { return l == label })
}

func (v *version) sameValue(str *string, bin []byte) bool {
	if (v.secretString == nil) != (str == nil) || (v.secretBinary == nil) != (bin == nil) {
		return false
	}
	if str != nil && *v.secretString != *str {
		return false
	}
	return bytes.Equal(v.secretBinary, bin)
}

// attach moves label onto v, taking it off whichever version had it. Moving
// AWSCURRENT also moves AWSPREVIOUS onto the version AWSCURRENT left, as
// Secrets Manager does in PutSecretValue and UpdateSecretVersionStage.
func (s *secret) attach(label string, v *version) {
	old := s.withStage(label)
	if old == v {
		return
	}
	if old != nil {
		old.detach(label)
	}
	v.stages = append(v.stages, label)
	if label == StageCurrent && old != nil {
		if prev := s.withStage(StagePrevious); prev != nil {
			prev.detach(StagePrevious)
		}
		old.stages = append(old.stages, StagePrevious)
	}
}

// stagesMap is VersionIdsToStages: labelled versions only.
func (s *secret) stagesMap() map[string][]string {
	m := map[string][]string{}
	for _, v := range s.versions {
		if len(v.stages) > 0 {
			m[v.id] = slices.Clone(v.stages)
		}
	}
	return m
}

func (s *secret) tagList() []tagJSON {
	out := make([]tagJSON, 0, len(s.tags))
	for _, t := range s.tags {
		out = append(out, tagJSON(t))
	}
	return out
}

func (s *secret) setTags(tags []tagJSON) {
	for _, t := range tags {
		i := slices.IndexFunc(s.tags, func(x tag) bool { return x.Key == t.Key })
		if i >= 0 {
			s.tags[i].Value = t.Value
			continue
		}
		s.tags = append(s.tags, tag(t))
	}
}

func (s *secret) nextRotation() time.Time {
	if !s.rotationEnabled || s.rotationRules == nil || s.rotationRules.AutomaticallyAfterDays == nil || s.lastRotated.IsZero() {
		return time.Time{}
	}
	return s.lastRotated.AddDate(0, 0, int(*s.rotationRules.AutomaticallyAfterDays))
}

// matches reports whether id names this secret: its name, its full ARN, or
// its ARN without the random six-character suffix (a partial ARN).
func (s *secret) matches(id string) bool {
	if !strings.HasPrefix(id, "arn:") {
		return id == s.name
	}
	return id == s.arn || id == s.arn[:len(s.arn)-7]
}

func timestamp(t time.Time) *awsjson.Timestamp {
	if t.IsZero() {
		return nil
	}
	return awsjson.NewTimestamp(t)
}

// accessDay is how Secrets Manager reports LastAccessedDate: the day only.
func accessDay(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(24 * time.Hour)
}

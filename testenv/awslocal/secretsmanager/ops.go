package secretsmanager

import (
	"context"
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/testenv/awslocal/awsjson"
	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/ids"
)

// Wire shapes. Field names are the JSON member names of the Secrets Manager
// API; encoding/json matches them case-insensitively on input.

type tagJSON struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// RotationRules is the rotation schedule of a secret.
type RotationRules struct {
	AutomaticallyAfterDays *int64  `json:"AutomaticallyAfterDays,omitempty"`
	Duration               *string `json:"Duration,omitempty"`
	ScheduleExpression     *string `json:"ScheduleExpression,omitempty"`
}

type secretRef struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

// Error types the SDK knows (types.*Exception).
const (
	errNotFound     = "ResourceNotFoundException"
	errExists       = "ResourceExistsException"
	errInvalidParam = "InvalidParameterException"
	errInvalidReq   = "InvalidRequestException"
	errNextToken    = "InvalidNextTokenException"
	// errValidation is what AWS answers for a member outside its modelled
	// constraints; the SDK surfaces it as a generic API error.
	errValidation = "ValidationException"
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

func errSecretNotFound() *awsjson.Error {
	return awsjson.Errorf(errNotFound, "Secrets Manager can't find the specified secret.")
}

func errVersionExists() *awsjson.Error {
	return awsjson.Errorf(errExists, "You can't modify an existing version, you can only create a new version.")
}

func errMarkedForDeletion() *awsjson.Error {
	return awsjson.Errorf(errInvalidReq, "You can't perform this operation on the secret because it was marked for deletion.")
}

// lookupLocked finds a live or scheduled-for-deletion secret. Secrets whose
// recovery window has passed are purged first. s.mu must be held.
func (s *Server) lookupLocked(id string) (*secret, error) {
	s.purgeLocked()
	if id == "" {
		return nil, awsjson.Errorf(errValidation, "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null")
	}
	for _, sec := range s.secrets {
		if sec.matches(id) {
			return sec, nil
		}
	}
	return nil, errSecretNotFound()
}

// lookupLiveLocked is lookupLocked for operations refused on secrets that
// are scheduled for deletion.
func (s *Server) lookupLiveLocked(id string) (*secret, error) {
	sec, err := s.lookupLocked(id)
	if err != nil {
		return nil, err
	}
	if sec.deleted() {
		return nil, errMarkedForDeletion()
	}
	return sec, nil
}

func (s *Server) purgeLocked() {
	now := s.now()
	s.secrets = slices.DeleteFunc(s.secrets, func(sec *secret) bool {
		return sec.deleted() && !now.Before(sec.deletionDate)
	})
}

func (s *Server) nextSeq() int {
	s.seq++
	return s.seq
}

// checkToken applies the ClientRequestToken length constraint (32 to 64
// characters); the SDK fills in a UUID when the caller leaves it empty, raw
// callers get one generated here.
func checkToken(token *string) (string, error) {
	if token == nil || *token == "" {
		return ids.UUID(), nil
	}
	if n := len(*token); n < 32 || n > 64 {
		return "", awsjson.Errorf(errValidation, "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 64")
	}
	return *token, nil
}

func checkValue(str *string, bin []byte) error {
	if str != nil && bin != nil {
		return awsjson.Errorf(errInvalidParam, "You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if str != nil && len(*str) > 65536 || len(bin) > 65536 {
		return awsjson.Errorf(errInvalidParam, "The secret value exceeds the maximum size of 65536 bytes.")
	}
	return nil
}

// putVersionLocked stores a new version (or recognises a retry of one) and
// places its labels as PutSecretValue documents. s.mu must be held.
func (s *Server) putVersionLocked(sec *secret, token string, str *string, bin []byte, stages []string) (*version, error) {
	if v := sec.version(token); v != nil {
		if v.sameValue(str, bin) {
			return v, nil // a retry of the same request changes nothing
		}
		return nil, errVersionExists()
	}
	now := s.now()
	v := &version{seq: s.nextSeq(), id: token, secretString: str, secretBinary: bin, created: now}
	first := len(sec.versions) == 0
	sec.versions = append(sec.versions, v)
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	if first && !slices.Contains(stages, StageCurrent) {
		stages = append(stages, StageCurrent)
	}
	for _, label := range stages {
		sec.attach(label, v)
	}
	sec.lastChanged = now
	return v, nil
}

// CreateSecret

type createSecretInput struct {
	Name               string    `json:"Name"`
	ClientRequestToken *string   `json:"ClientRequestToken"`
	Description        string    `json:"Description"`
	KmsKeyID           string    `json:"KmsKeyId"`
	SecretString       *string   `json:"SecretString"`
	SecretBinary       []byte    `json:"SecretBinary"`
	Tags               []tagJSON `json:"Tags"`
}

type createSecretOutput struct {
	secretRef
	VersionID string `json:"VersionId,omitempty"`
}

func (s *Server) createSecret(_ context.Context, in *createSecretInput) (*createSecretOutput, error) {
	if !namePattern.MatchString(in.Name) {
		return nil, awsjson.Errorf(errValidation, "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[A-Za-z0-9/_+=.@-]{1,512}$")
	}
	if err := checkValue(in.SecretString, in.SecretBinary); err != nil {
		return nil, err
	}
	token, err := checkToken(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	hasValue := in.SecretString != nil || in.SecretBinary != nil

	s.mu.Lock()
	defer s.mu.Unlock()
	if existing, err := s.lookupLocked(in.Name); err == nil {
		if existing.deleted() {
			return nil, awsjson.Errorf(errInvalidReq, "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		// A retried CreateSecret carries the same token and value.
		if v := existing.version(token); v != nil && hasValue {
			if !v.sameValue(in.SecretString, in.SecretBinary) {
				return nil, errVersionExists()
			}
			return &createSecretOutput{existing.ref(), v.id}, nil
		}
		return nil, awsjson.Errorf(errExists, "The operation failed because the secret %s already exists.", in.Name)
	}
	now := s.now()
	sec := &secret{
		seq: s.nextSeq(), arn: newARN(in.Name), name: in.Name,
		description: in.Description, kmsKeyID: in.KmsKeyID,
		created: now, lastChanged: now,
	}
	sec.setTags(in.Tags)
	out := &createSecretOutput{secretRef: sec.ref()}
	if hasValue {
		v, err := s.putVersionLocked(sec, token, in.SecretString, in.SecretBinary, nil)
		if err != nil {
			return nil, err
		}
		out.VersionID = v.id
	}
	s.secrets = append(s.secrets, sec)
	return out, nil
}

// PutSecretValue

type putSecretValueInput struct {
	SecretID           string   `json:"SecretId"`
	ClientRequestToken *string  `json:"ClientRequestToken"`
	SecretString       *string  `json:"SecretString"`
	SecretBinary       []byte   `json:"SecretBinary"`
	VersionStages      []string `json:"VersionStages"`
}

type putSecretValueOutput struct {
	secretRef
	VersionID     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages"`
}

func (s *Server) putSecretValue(_ context.Context, in *putSecretValueInput) (*putSecretValueOutput, error) {
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, awsjson.Errorf(errInvalidReq, "You must provide either SecretString or SecretBinary.")
	}
	if err := checkValue(in.SecretString, in.SecretBinary); err != nil {
		return nil, err
	}
	token, err := checkToken(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupLiveLocked(in.SecretID)
	if err != nil {
		return nil, err
	}
	v, err := s.putVersionLocked(sec, token, in.SecretString, in.SecretBinary, in.VersionStages)
	if err != nil {
		return nil, err
	}
	return &putSecretValueOutput{sec.ref(), v.id, slices.Clone(v.stages)}, nil
}

// GetSecretValue

type getSecretValueInput struct {
	SecretID     string `json:"SecretId"`
	VersionID    string `json:"VersionId"`
	VersionStage string `json:"VersionStage"`
}

type getSecretValueOutput struct {
	secretRef
	VersionID     string             `json:"VersionId"`
	SecretString  *string            `json:"SecretString,omitempty"`
	SecretBinary  []byte             `json:"SecretBinary,omitempty"`
	VersionStages []string           `json:"VersionStages"`
	CreatedDate   *awsjson.Timestamp `json:"CreatedDate"`
}

func (s *Server) getSecretValue(_ context.Context, in *getSecretValueInput) (*getSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupLiveLocked(in.SecretID)
	if err != nil {
		return nil, err
	}
	var v *version
	switch {
	case in.VersionID != "":
		v = sec.version(in.VersionID)
		if v == nil {
			return nil, awsjson.Errorf(errNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", in.VersionID)
		}
		if in.VersionStage != "" && !v.has(in.VersionStage) {
			return nil, awsjson.Errorf(errNotFound, "You provided a VersionStage that is not associated to the provided VersionId.")
		}
	default:
		stage := in.VersionStage
		if stage == "" {
			stage = StageCurrent
		}
		v = sec.withStage(stage)
		if v == nil {
			return nil, awsjson.Errorf(errNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
		}
	}
	now := s.now()
	sec.lastAccessed, v.lastAccessed = now, now
	return &getSecretValueOutput{
		secretRef:     sec.ref(),
		VersionID:     v.id,
		SecretString:  v.secretString,
		SecretBinary:  v.secretBinary,
		VersionStages: slices.Clone(v.stages),
		CreatedDate:   timestamp(v.created),
	}, nil
}

// DescribeSecret

type describeSecretInput struct {
	SecretID string `json:"SecretId"`
}

type describeSecretOutput struct {
	secretRef
	Description        string              `json:"Description,omitempty"`
	KmsKeyID           string              `json:"KmsKeyId,omitempty"`
	RotationEnabled    bool                `json:"RotationEnabled"`
	RotationLambdaARN  string              `json:"RotationLambdaARN,omitempty"`
	RotationRules      *RotationRules      `json:"RotationRules,omitempty"`
	LastRotatedDate    *awsjson.Timestamp  `json:"LastRotatedDate,omitempty"`
	LastChangedDate    *awsjson.Timestamp  `json:"LastChangedDate,omitempty"`
	LastAccessedDate   *awsjson.Timestamp  `json:"LastAccessedDate,omitempty"`
	DeletedDate        *awsjson.Timestamp  `json:"DeletedDate,omitempty"`
	NextRotationDate   *awsjson.Timestamp  `json:"NextRotationDate,omitempty"`
	CreatedDate        *awsjson.Timestamp  `json:"CreatedDate,omitempty"`
	Tags               []tagJSON           `json:"Tags,omitempty"`
	VersionIDsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
}

func describe(sec *secret) describeSecretOutput {
	return describeSecretOutput{
		secretRef:          sec.ref(),
		Description:        sec.description,
		KmsKeyID:           sec.kmsKeyID,
		RotationEnabled:    sec.rotationEnabled,
		RotationLambdaARN:  sec.rotationLambdaARN,
		RotationRules:      sec.rotationRules,
		LastRotatedDate:    timestamp(sec.lastRotated),
		LastChangedDate:    timestamp(sec.lastChanged),
		LastAccessedDate:   timestamp(accessDay(sec.lastAccessed)),
		DeletedDate:        timestamp(sec.deletedDate),
		NextRotationDate:   timestamp(sec.nextRotation()),
		CreatedDate:        timestamp(sec.created),
		Tags:               sec.tagList(),
		VersionIDsToStages: sec.stagesMap(),
	}
}

func (s *Server) describeSecret(_ context.Context, in *describeSecretInput) (*describeSecretOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupLocked(in.SecretID)
	if err != nil {
		return nil, err
	}
	out := describe(sec)
	return &out, nil
}

// UpdateSecretVersionStage

type updateSecretVersionStageInput struct {
	SecretID            string `json:"SecretId"`
	VersionStage        string `json:"VersionStage"`
	MoveToVersionID     string `json:"MoveToVersionId"`
	RemoveFromVersionID string `json:"RemoveFromVersionId"`
}

func (s *Server) updateSecretVersionStage(_ context.Context, in *updateSecretVersionStageInput) (*secretRef, error) {
	if in.VersionStage == "" {
		return nil, awsjson.Errorf(errValidation, "1 validation error detected: Value null at 'versionStage' failed to satisfy constraint: Member must not be null")
	}
	if in.MoveToVersionID == "" && in.RemoveFromVersionID == "" {
		return nil, awsjson.Errorf(errInvalidParam, "You must specify MoveToVersionId or RemoveFromVersionId.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupLiveLocked(in.SecretID)
	if err != nil {
		return nil, err
	}
	ref := sec.ref()
	label := in.VersionStage
	holder := sec.withStage(label)

	var target, from *version
	if in.MoveToVersionID != "" {
		if target = sec.version(in.MoveToVersionID); target == nil {
			return nil, awsjson.Errorf(errNotFound, "Secrets Manager can't find the specified secret version: %s", in.MoveToVersionID)
		}
	}
	if in.RemoveFromVersionID != "" {
		if from = sec.version(in.RemoveFromVersionID); from == nil {
			return nil, awsjson.Errorf(errNotFound, "Secrets Manager can't find the specified secret version: %s", in.RemoveFromVersionID)
		}
		if !from.has(label) {
			return nil, awsjson.Errorf(errInvalidParam, "The staging label %s is not attached to version %s, so it can't be removed from it.", label, from.id)
		}
	}

	if target == nil {
		// Removal only. AWSCURRENT must always be on some version.
		if label == StageCurrent {
			return nil, awsjson.Errorf(errInvalidParam, "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.")
		}
		from.detach(label)
		sec.lastChanged = s.now()
		return &ref, nil
	}
	if holder != nil && holder != target && holder != from {
		return nil, awsjson.Errorf(errInvalidParam,
			"The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.",
			label, holder.id)
	}
	if holder != target {
		sec.attach(label, target)
		sec.lastChanged = s.now()
	}
	return &ref, nil
}

// ListSecretVersionIds

type listSecretVersionIDsInput struct {
	SecretID          string  `json:"SecretId"`
	IncludeDeprecated bool    `json:"IncludeDeprecated"`
	MaxResults        *int32  `json:"MaxResults"`
	NextToken         *string `json:"NextToken"`
}

type versionEntry struct {
	VersionID        string             `json:"VersionId"`
	VersionStages    []string           `json:"VersionStages,omitempty"`
	CreatedDate      *awsjson.Timestamp `json:"CreatedDate,omitempty"`
	LastAccessedDate *awsjson.Timestamp `json:"LastAccessedDate,omitempty"`
}

type listSecretVersionIDsOutput struct {
	secretRef
	Versions  []versionEntry `json:"Versions"`
	NextToken *string        `json:"NextToken,omitempty"`
}

func (s *Server) listSecretVersionIDs(_ context.Context, in *listSecretVersionIDsInput) (*listSecretVersionIDsOutput, error) {
	limit, after, err := pageParams(in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupLocked(in.SecretID)
	if err != nil {
		return nil, err
	}
	out := &listSecretVersionIDsOutput{secretRef: sec.ref(), Versions: []versionEntry{}}
	lastSeq := 0
	for _, v := range sec.versions {
		if v.seq <= after || (!in.IncludeDeprecated && len(v.stages) == 0) {
			continue
		}
		if len(out.Versions) == limit {
			out.NextToken = pageToken(lastSeq)
			break
		}
		lastSeq = v.seq
		out.Versions = append(out.Versions, versionEntry{
			VersionID:        v.id,
			VersionStages:    slices.Clone(v.stages),
			CreatedDate:      timestamp(v.created),
			LastAccessedDate: timestamp(accessDay(v.lastAccessed)),
		})
	}
	return out, nil
}

// pageParams reads MaxResults (1 to 100, default 100) and a NextToken made
// by pageToken.
func pageParams(maxResults *int32, next *string) (limit, after int, err error) {
	limit = 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return 0, 0, awsjson.Errorf(errValidation, "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100", *maxResults)
		}
		limit = int(*maxResults)
	}
	if next != nil && *next != "" {
		raw, decErr := base64.RawURLEncoding.DecodeString(*next)
		if decErr != nil {
			return 0, 0, awsjson.Errorf(errNextToken, "The NextToken value is invalid.")
		}
		n, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), "after:"))
		if convErr != nil || !strings.HasPrefix(string(raw), "after:") {
			return 0, 0, awsjson.Errorf(errNextToken, "The NextToken value is invalid.")
		}
		after = n
	}
	return limit, after, nil
}

func pageToken(seq int) *string {
	t := base64.RawURLEncoding.EncodeToString([]byte("after:" + strconv.Itoa(seq)))
	return &t
}

// ListSecrets

type filter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

type listSecretsInput struct {
	Filters                []filter `json:"Filters"`
	IncludePlannedDeletion bool     `json:"IncludePlannedDeletion"`
	MaxResults             *int32   `json:"MaxResults"`
	NextToken              *string  `json:"NextToken"`
	SortOrder              string   `json:"SortOrder"`
}

type secretListEntry struct {
	describeSecretOutput
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
}

type listSecretsOutput struct {
	SecretList []secretListEntry `json:"SecretList"`
	NextToken  *string           `json:"NextToken,omitempty"`
}

func (s *Server) listSecrets(_ context.Context, in *listSecretsInput) (*listSecretsOutput, error) {
	limit, after, err := pageParams(in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	for _, f := range in.Filters {
		switch f.Key {
		case "description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all":
		default:
			return nil, awsjson.Errorf(errValidation, "1 validation error detected: Value '%s' at 'filters.key' failed to satisfy constraint", f.Key)
		}
	}
	desc := strings.EqualFold(in.SortOrder, "desc")

	s.mu.Lock()
	defer s.mu.Unlock()
	s.purgeLocked()
	candidates := slices.Clone(s.secrets)
	if desc {
		slices.Reverse(candidates)
	}
	out := &listSecretsOutput{SecretList: []secretListEntry{}}
	lastSeq := 0
	for _, sec := range candidates {
		if after != 0 && ((!desc && sec.seq <= after) || (desc && sec.seq >= after)) {
			continue
		}
		if sec.deleted() && !in.IncludePlannedDeletion {
			continue
		}
		if !matchesFilters(sec, in.Filters) {
			continue
		}
		if len(out.SecretList) == limit {
			out.NextToken = pageToken(lastSeq)
			break
		}
		d := describe(sec)
		stages := d.VersionIDsToStages
		d.VersionIDsToStages = nil
		out.SecretList = append(out.SecretList, secretListEntry{describeSecretOutput: d, SecretVersionsToStages: stages})
		lastSeq = sec.seq
	}
	return out, nil
}

// matchesFilters applies ListSecrets filters: every filter must match, and a
// filter matches when any of its values does. A value starting with "!"
// negates. Matching is by prefix, case-sensitive except for description.
func matchesFilters(sec *secret, filters []filter) bool {
	for _, f := range filters {
		matched := false
		for _, raw := range f.Values {
			value, negate := strings.CutPrefix(raw, "!")
			if matchesFilter(sec, f.Key, value) != negate {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

func matchesFilter(sec *secret, key, value string) bool {
	switch key {
	case "name":
		return strings.HasPrefix(sec.name, value)
	case "description":
		return strings.HasPrefix(strings.ToLower(sec.description), strings.ToLower(value))
	case "tag-key":
		return slices.ContainsFunc(sec.tags, func(t tag) bool { return strings.HasPrefix(t.Key, value) })
	case "tag-value":
		return slices.ContainsFunc(sec.tags, func(t tag) bool { return strings.HasPrefix(t.Value, value) })
	case "primary-region", "owning-service":
		return false // no replicated or service-owned secrets here
	case "all":
		words := strings.Fields(strings.ToLower(value))
		hay := []string{strings.ToLower(sec.name), strings.ToLower(sec.description)}
		for _, t := range sec.tags {
			hay = append(hay, strings.ToLower(t.Key), strings.ToLower(t.Value))
		}
		for _, w := range words {
			if !slices.ContainsFunc(hay, func(h string) bool { return strings.Contains(h, w) }) {
				return false
			}
		}
		return true
	}
	return false
}

// TagResource, UntagResource

type tagResourceInput struct {
	SecretID string    `json:"SecretId"`
	Tags     []tagJSON `json:"Tags"`
}

type untagResourceInput struct {
	SecretID string   `json:"SecretId"`
	TagKeys  []string `json:"TagKeys"`
}

type empty struct{}

func (s *Server) tagResource(_ context.Context, in *tagResourceInput) (*empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupLiveLocked(in.SecretID)
	if err != nil {
		return nil, err
	}
	sec.setTags(in.Tags)
	sec.lastChanged = s.now()
	return &empty{}, nil
}

func (s *Server) untagResource(_ context.Context, in *untagResourceInput) (*empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupLiveLocked(in.SecretID)
	if err != nil {
		return nil, err
	}
	sec.tags = slices.DeleteFunc(sec.tags, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
	sec.lastChanged = s.now()
	return &empty{}, nil
}

// DeleteSecret, RestoreSecret

type deleteSecretInput struct {
	SecretID                   string `json:"SecretId"`
	RecoveryWindowInDays       *int64 `json:"RecoveryWindowInDays"`
	ForceDeleteWithoutRecovery *bool  `json:"ForceDeleteWithoutRecovery"`
}

type deleteSecretOutput struct {
	secretRef
	DeletionDate *awsjson.Timestamp `json:"DeletionDate"`
}

func (s *Server) deleteSecret(_ context.Context, in *deleteSecretInput) (*deleteSecretOutput, error) {
	force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
	if force && in.RecoveryWindowInDays != nil {
		return nil, awsjson.Errorf(errInvalidParam, "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	window := int64(30)
	if in.RecoveryWindowInDays != nil {
		window = *in.RecoveryWindowInDays
		if window < 7 || window > 30 {
			return nil, awsjson.Errorf(errInvalidParam, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupLocked(in.SecretID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if force {
		s.secrets = slices.DeleteFunc(s.secrets, func(x *secret) bool { return x == sec })
		return &deleteSecretOutput{sec.ref(), timestamp(now)}, nil
	}
	if sec.deleted() {
		return nil, errMarkedForDeletion()
	}
	sec.deletedDate = now
	sec.deletionDate = now.Add(time.Duration(window) * 24 * time.Hour)
	return &deleteSecretOutput{sec.ref(), timestamp(sec.deletionDate)}, nil
}

type restoreSecretInput struct {
	SecretID string `json:"SecretId"`
}

func (s *Server) restoreSecret(_ context.Context, in *restoreSecretInput) (*secretRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupLocked(in.SecretID)
	if err != nil {
		return nil, err
	}
	sec.deletedDate, sec.deletionDate = time.Time{}, time.Time{}
	ref := sec.ref()
	return &ref, nil
}

package detect

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// StateFormat is the version of the detection state document.
const StateFormat = 1

// State is what detection keeps between runs, in one JSON object beside
// the export checkpoint, written only conditionally (as the checkpoint is).
type State struct {
	Format int    `json:"format"`
	OrgID  string `json:"org_id"`
	// Generation is the newest export generation (digest) evaluated; the
	// next run evaluates the generations after it.
	Generation int64 `json:"generation"`
	// Watermark is the newest effective_at evaluated.
	Watermark int64 `json:"watermark"`
	// Windows are the events of open burst windows, by rule and group,
	// oldest first.
	Windows map[string][]WindowEvent `json:"windows"`
	// Seen are the (rule, event id) pairs counted in a window, with the
	// event's effective_at: an event delivered twice counts once.
	Seen map[string]int64 `json:"seen"`
	// Decided are finding ids already raised, with their last event's
	// effective_at: evaluating the same events again raises none twice.
	Decided map[string]int64 `json:"decided"`
	// Outbox holds findings decided but not yet delivered to every sink:
	// saved before delivery, so a crash in between delivers them next run.
	Outbox []Pending `json:"outbox"`
	// Journal caches the offboarding records read, by key.
	Journal map[string]Offboarded `json:"journal,omitempty"`
	// Write identifies the write that stored this version.
	Write string `json:"write"`
}

// Offboarded is one person orgwarden removed from the organization.
type Offboarded struct {
	UserID string `json:"user_id,omitempty"`
	Email  string `json:"email,omitempty"`
	At     int64  `json:"at"`
}

func (st *State) init() {
	st.Format = StateFormat
	if st.Windows == nil {
		st.Windows = map[string][]WindowEvent{}
	}
	if st.Seen == nil {
		st.Seen = map[string]int64{}
	}
	if st.Decided == nil {
		st.Decided = map[string]int64{}
	}
	if st.Journal == nil {
		st.Journal = map[string]Offboarded{}
	}
}

// ErrConflict means another run wrote the state since this one read it.
var ErrConflict = errors.New("detection state changed by another run")

// objectAPI is the part of S3 the detector uses; tests may fake it.
type objectAPI interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// stateStore reads and conditionally writes the state object.
type stateStore struct {
	s3       objectAPI
	bucket   string
	key      string
	kmsKeyID string
	etag     string
}

func (s *stateStore) location() string { return s.bucket + "/" + s.key }

// load reads the state; a missing object is a fresh State (no ETag).
func (s *stateStore) load(ctx context.Context) (*State, error) {
	st, etag, err := s.get(ctx)
	if errors.Is(err, objects.ErrNotFound) {
		s.etag = ""
		st := &State{}
		st.init()
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	s.etag = etag
	return st, nil
}

func (s *stateStore) missing() bool { return s.etag == "" }

func (s *stateStore) get(ctx context.Context) (*State, string, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key)})
	if err != nil {
		return nil, "", fmt.Errorf("read detection state %s: %w", s.location(), objects.Classify(err))
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, 256<<20))
	if err != nil {
		return nil, "", fmt.Errorf("read detection state %s: %w", s.location(), err)
	}
	var st State
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, "", fmt.Errorf("detection state %s: %w", s.location(), err)
	}
	if st.Format != StateFormat {
		return nil, "", fmt.Errorf("detection state %s: format %d, this version reads %d", s.location(), st.Format, StateFormat)
	}
	st.init()
	return &st, aws.ToString(out.ETag), nil
}

// save writes st if the stored state is still the version last read or
// written (If-Match, If-None-Match: * for the first). A retry whose first
// attempt landed is recognised by the write id.
func (s *stateStore) save(ctx context.Context, st *State) error {
	st.init()
	var b [12]byte
	_, _ = rand.Read(b[:])
	st.Write = hex.EncodeToString(b[:])
	body, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode detection state: %w", err)
	}
	in := &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json")}
	if s.etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(s.etag)
	}
	if s.kmsKeyID != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(s.kmsKeyID)
	}
	out, perr := s.s3.PutObject(ctx, in)
	if perr == nil {
		s.etag = aws.ToString(out.ETag)
		return nil
	}
	if stored, etag, gerr := s.get(ctx); gerr == nil && stored.Write == st.Write {
		s.etag = etag
		return nil
	}
	if errors.Is(objects.Classify(perr), objects.ErrExists) {
		return fmt.Errorf("write detection state %s: %w", s.location(), ErrConflict)
	}
	return fmt.Errorf("write detection state %s: %w", s.location(), perr)
}

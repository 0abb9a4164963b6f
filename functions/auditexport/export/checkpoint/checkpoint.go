// Package checkpoint holds the export's durable state, one JSON object in
// S3, and writes it only with S3 conditional writes: If-None-Match: * to
// create it, If-Match: <etag> to replace the version a run read. Every
// version therefore follows exactly one earlier version, and of two runs
// that read the same version only the first to write it goes on; the other
// gets ErrConflict and must stop.
package checkpoint

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

// Format is the version of the state document.
const Format = 1

// ErrConflict means another run wrote the state since this run read it.
var ErrConflict = errors.New("checkpoint changed by another run")

// ErrCorrupt means the stored state is not a valid checkpoint.
var ErrCorrupt = errors.New("checkpoint is not valid")

// State is everything a run needs to continue where the previous one
// stopped. See package export for how the fields make the export exactly
// once.
type State struct {
	Format int    `json:"format"`
	OrgID  string `json:"org_id"`

	// Generation is the last sealed generation, Digest its digest.
	Generation int64      `json:"generation"`
	Digest     *DigestRef `json:"digest,omitempty"`

	// Covered are the effective_at ranges exported completely, except for
	// events that become visible late, which the lookback re-reads.
	Covered Spans `json:"covered,omitempty"`
	// Newest is the newest effective_at exported so far.
	Newest int64 `json:"newest_effective_at,omitempty"`
	// Recent are the objects that may hold events inside the next lookback
	// window; the ids already exported there are read back from them.
	Recent []ObjectRef `json:"recent,omitempty"`
	// NextSlice numbers slices across jobs, so object names never collide.
	NextSlice int64 `json:"next_slice"`

	// Job is the export job in progress, if any. It can outlive a run.
	Job *Job `json:"job,omitempty"`
	// Open is the generation being written (the write-ahead intent). A run
	// that finds one left by a run that ended early recovers and seals it.
	Open *Open `json:"open,omitempty"`

	// Write identifies the write that produced this version, so a retried
	// write can recognise its own earlier success.
	Write string `json:"write"`
}

// DigestRef points at a sealed digest.
type DigestRef struct {
	Generation int64  `json:"generation"`
	Key        string `json:"key"`
	SHA256     string `json:"sha256"`
}

// ObjectRef is what the dedupe window needs to know about an object.
type ObjectRef struct {
	Key    string `json:"key"`
	Oldest int64  `json:"oldest_effective_at"`
	Newest int64  `json:"newest_effective_at"`
	Events int64  `json:"events"`
}

// Job kinds.
const (
	Incremental = "incremental"
	Backfill    = "backfill"
)

// Job exports Spans, split into slices paged concurrently.
type Job struct {
	Kind      string  `json:"kind"`
	Spans     Spans   `json:"spans"`
	Slices    []Slice `json:"slices"`
	CreatedAt int64   `json:"created_at"`
	// Requested is the range the caller asked for (backfill), for reports.
	Requested *Span `json:"requested,omitempty"`
}

// Done reports whether every slice is done.
func (j *Job) Done() bool {
	for _, s := range j.Slices {
		if !s.Done {
			return false
		}
	}
	return true
}

// Slice is one time range of a job, paged newest first.
type Slice struct {
	ID   int64 `json:"id"`
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Tenant slices list tenant-scoped events (tenant_only=true), which the
	// API keeps apart from the organization's other events.
	Tenant bool `json:"tenant,omitempty"`
	// After is the id of the oldest event of this slice durably written;
	// the slice resumes with the page after it. Reached is its effective_at.
	After   string `json:"after,omitempty"`
	Reached int64  `json:"reached,omitempty"`
	// Seq is the sequence number of the slice's next object.
	Seq    int   `json:"seq"`
	Events int64 `json:"events,omitempty"`
	Done   bool  `json:"done,omitempty"`
}

// Open is a generation being written.
type Open struct {
	Generation int64  `json:"generation"`
	RunID      string `json:"run_id"`
	StartedAt  int64  `json:"started_at"`
	// LeaseUntil is when another run may consider this one gone.
	LeaseUntil int64 `json:"lease_until"`
	// Objects are written and recorded.
	Objects []objects.Info `json:"objects,omitempty"`
	// Writing are keys about to be written: recorded before the write, so
	// a recovering run knows every key this generation may have used.
	Writing []Intent `json:"writing,omitempty"`
	// Sealed, once set, fixes the digest's content; only writing it and
	// closing the generation remain.
	Sealed *Seal `json:"sealed,omitempty"`
	// RecoveredBy is the run that finished this generation for a run that
	// ended early.
	RecoveredBy string `json:"recovered_by,omitempty"`
	// Foreign are objects found at keys this generation announced that are
	// not what it intended to write there: never adopted, listed in the
	// digest apart from the export's objects so that verify reports them.
	Foreign []objects.Info `json:"foreign,omitempty"`
}

// Intent is a key a slice is about to write.
type Intent struct {
	Key   string `json:"key"`
	Slice int64  `json:"slice"`
	Seq   int    `json:"seq"`
	// SHA256 is the content the slice is about to upload, recorded before
	// the upload. An object found at Key is the export's own only when it
	// has exactly this hash; anything else there is foreign.
	SHA256 string `json:"sha256,omitempty"`
}

// Seal records when and by whom a generation was sealed.
type Seal struct {
	At int64  `json:"at"`
	By string `json:"by"`
}

// Store reads and conditionally writes the state object. It remembers the
// ETag of the version it last read or wrote; it is not safe for concurrent
// use.
type Store struct {
	s3       ObjectAPI
	bucket   string
	key      string
	kmsKeyID string
	etag     string
}

// ObjectAPI is what the store needs of S3: a read, and a conditional
// write. *s3.Client has it; unit tests pass an in-memory store
// (testenv/memobjects).
type ObjectAPI interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// NewStore returns a store for the state at bucket/key.
func NewStore(client ObjectAPI, bucket, key, kmsKeyID string) *Store {
	return &Store{s3: client, bucket: bucket, key: key, kmsKeyID: kmsKeyID}
}

// Location is bucket/key, for messages.
func (s *Store) Location() string { return s.bucket + "/" + s.key }

// Load reads the state. A missing object is a fresh export: a zero State
// (Format set, no ETag), which Save creates with If-None-Match.
func (s *Store) Load(ctx context.Context) (*State, error) {
	st, etag, err := s.get(ctx)
	if errors.Is(err, objects.ErrNotFound) {
		s.etag = ""
		return &State{Format: Format}, nil
	}
	if err != nil {
		return nil, err
	}
	s.etag = etag
	return st, nil
}

// Missing reports whether the last Load found no checkpoint at all.
func (s *Store) Missing() bool { return s.etag == "" }

func (s *Store) get(ctx context.Context) (*State, string, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key)})
	if err != nil {
		return nil, "", fmt.Errorf("read checkpoint %s: %w", s.Location(), objects.Classify(err))
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, 64<<20))
	if err != nil {
		return nil, "", fmt.Errorf("read checkpoint %s: %w", s.Location(), err)
	}
	st, err := Parse(body)
	if err != nil {
		return nil, "", fmt.Errorf("checkpoint %s: %w: %w", s.Location(), ErrCorrupt, err)
	}
	return st, aws.ToString(out.ETag), nil
}

// Parse decodes and checks a state document.
func Parse(body []byte) (*State, error) {
	var st State
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if st.Format != Format {
		return nil, fmt.Errorf("format %d: this version reads format %d", st.Format, Format)
	}
	if st.Generation < 0 || st.NextSlice < 0 {
		return nil, errors.New("negative generation or slice counter")
	}
	if st.Open != nil && st.Open.Generation != st.Generation+1 {
		return nil, fmt.Errorf("open generation %d does not follow sealed generation %d", st.Open.Generation, st.Generation)
	}
	return &st, nil
}

// Save writes st if the stored state is still the version this store last
// read or wrote. It returns ErrConflict when another run got there first.
func (s *Store) Save(ctx context.Context, st *State) error {
	v, err := Encode(st)
	if err != nil {
		return err
	}
	return s.SaveEncoded(ctx, v)
}

// Version is a state encoded for saving.
type Version struct {
	body  []byte
	write string
}

// Encode stamps st with a new write id and encodes it. Callers that share
// st with other goroutines encode under their lock and save outside it.
func Encode(st *State) (Version, error) {
	st.Format = Format
	st.Write = nonce()
	body, err := json.Marshal(st)
	if err != nil {
		return Version{}, fmt.Errorf("encode checkpoint: %w", err)
	}
	return Version{body: body, write: st.Write}, nil
}

// SaveEncoded is Save for a state Encode prepared.
func (s *Store) SaveEncoded(ctx context.Context, v Version) error {
	in := &s3.PutObjectInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(s.key),
		Body:        bytes.NewReader(v.body),
		ContentType: aws.String("application/json"),
	}
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
	// The outcome may be a retry that found our own first attempt already
	// applied (412), or a lost answer: the stored version says which.
	stored, etag, gerr := s.get(ctx)
	if gerr == nil && stored.Write == v.write {
		s.etag = etag
		return nil
	}
	if errors.Is(objects.Classify(perr), objects.ErrExists) {
		return fmt.Errorf("write checkpoint %s: %w", s.Location(), ErrConflict)
	}
	return fmt.Errorf("write checkpoint %s: %w", s.Location(), perr)
}

func nonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

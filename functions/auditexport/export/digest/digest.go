// Package digest writes and reads the export's digest chain, in the manner
// of CloudTrail's log file integrity validation: every generation (one per
// run) writes one digest listing the data objects it wrote with their
// SHA-256, event counts and effective_at ranges, and the SHA-256 of the
// previous generation's digest. Changing, removing or adding any object or
// digest breaks a hash, a count or the sequence of generation numbers, which
// package verify detects.
//
// A digest is written even when its generation exported nothing, so a
// missing run shows up as a missing generation, not as silence.
//
// Unlike CloudTrail, digests are not signed: the chain proves that nothing
// was changed after the fact only together with something an attacker with
// write access cannot rewrite, such as S3 Object Lock on the bucket (which
// the stack enables) or a copy of the newest digest's hash kept elsewhere
// (the checkpoint keeps one).
package digest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// Format names the digest document format.
const Format = "orgwarden.auditexport.digest/1"

// Digest is one generation's digest.
type Digest struct {
	Format     string `json:"format"`
	OrgID      string `json:"org_id"`
	Generation int64  `json:"generation"`
	// RunID is the run that wrote the generation's objects; RecoveredBy the
	// run that sealed it when the first one ended early.
	RunID       string `json:"run_id"`
	RecoveredBy string `json:"recovered_by,omitempty"`
	StartedAt   string `json:"started_at"` // RFC 3339, UTC
	SealedAt    string `json:"sealed_at"`
	// Previous links to generation-1's digest; null for generation 1.
	Previous *Link `json:"previous"`
	// Objects are the data objects written by this generation, by key.
	Objects []objects.Info `json:"objects"`
	Events  int64          `json:"events"`
	// Covered are the effective_at ranges [from, to) exported in full as of
	// this generation (unix seconds).
	Covered []Range `json:"covered"`
	// Foreign are objects this generation found at keys it was about to
	// write, holding something other than what it intended: not part of
	// the export (their events are not counted, the generation wrote its
	// own objects elsewhere), listed so that verify reports them.
	Foreign []objects.Info `json:"foreign,omitempty"`
}

// Link is a hash pointer to another digest.
type Link struct {
	Generation int64  `json:"generation"`
	Key        string `json:"key"`
	SHA256     string `json:"sha256"`
}

// Range is a half-open effective_at range in unix seconds.
type Range struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Time formats unix seconds as the digest does.
func Time(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

// Encode renders d deterministically (objects sorted by key), indented for
// the auditors who read it.
func Encode(d Digest) ([]byte, error) {
	d.Format = Format
	d.Objects = slices.Clone(d.Objects)
	slices.SortFunc(d.Objects, func(a, b objects.Info) int { return strings.Compare(a.Key, b.Key) })
	if d.Objects == nil {
		d.Objects = []objects.Info{}
	}
	if d.Covered == nil {
		d.Covered = []Range{}
	}
	d.Foreign = slices.Clone(d.Foreign)
	slices.SortFunc(d.Foreign, func(a, b objects.Info) int { return strings.Compare(a.Key, b.Key) })
	d.Events = 0
	for _, o := range d.Objects {
		d.Events += o.Events
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode digest: %w", err)
	}
	return append(b, '\n'), nil
}

// Parse decodes a digest and checks its shape.
func Parse(b []byte) (Digest, error) {
	var d Digest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Digest{}, fmt.Errorf("decode digest: %w", err)
	}
	if dec.More() {
		return Digest{}, errors.New("decode digest: trailing data")
	}
	switch {
	case d.Format != Format:
		return Digest{}, fmt.Errorf("digest format %q, want %q", d.Format, Format)
	case d.Generation <= 0:
		return Digest{}, fmt.Errorf("digest generation %d", d.Generation)
	case d.Generation == 1 && d.Previous != nil:
		return Digest{}, errors.New("generation 1 links to a previous digest")
	case d.Generation > 1 && d.Previous == nil:
		return Digest{}, fmt.Errorf("generation %d has no link to its previous digest", d.Generation)
	}
	var sum int64
	seen := map[string]bool{}
	for _, o := range d.Objects {
		if o.Key == "" || len(o.SHA256) != 64 || o.Events < 0 || o.Bytes < 0 {
			return Digest{}, fmt.Errorf("digest object %q: incomplete entry", o.Key)
		}
		if seen[o.Key] {
			return Digest{}, fmt.Errorf("digest lists %s twice", o.Key)
		}
		seen[o.Key] = true
		sum += o.Events
	}
	for _, o := range d.Foreign {
		if o.Key == "" || seen[o.Key] {
			return Digest{}, fmt.Errorf("digest foreign object %q: empty or listed twice", o.Key)
		}
		seen[o.Key] = true
	}
	if sum != d.Events {
		return Digest{}, fmt.Errorf("digest events %d, objects add up to %d", d.Events, sum)
	}
	return d, nil
}

// Sum is the hex SHA-256 of b.
func Sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Store writes and reads digests in one bucket.
type Store struct {
	s3       *s3.Client
	bucket   string
	kmsKeyID string
}

// NewStore returns a digest store for bucket.
func NewStore(client *s3.Client, bucket, kmsKeyID string) *Store {
	return &Store{s3: client, bucket: bucket, kmsKeyID: kmsKeyID}
}

// ErrDiffers means a digest already exists at the key with other content.
var ErrDiffers = errors.New("a different digest already exists")

// Put writes body at key once (If-None-Match: *). Finding the same bytes
// there already (a retry, or two runs sealing the same generation) is
// success; finding other bytes is ErrDiffers.
func (s *Store) Put(ctx context.Context, key string, body []byte) error {
	in := &s3.PutObjectInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
		IfNoneMatch: aws.String("*"),
	}
	if s.kmsKeyID != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(s.kmsKeyID)
	}
	_, err := s.s3.PutObject(ctx, in)
	if err == nil {
		return nil
	}
	if !errors.Is(objects.Classify(err), objects.ErrExists) {
		return fmt.Errorf("write digest %s: %w", key, err)
	}
	have, gerr := s.Get(ctx, key)
	if gerr != nil {
		return fmt.Errorf("write digest %s: exists, and reading it failed: %w", key, gerr)
	}
	if !bytes.Equal(have, body) {
		return fmt.Errorf("write digest %s: %w", key, ErrDiffers)
	}
	return nil
}

// MaxSize is the largest digest Get reads.
const MaxSize = 256 << 20

// Get reads the digest at key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("read digest %s: %w", key, objects.Classify(err))
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read digest %s: %w", key, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("read digest %s: larger than %d bytes", key, MaxSize)
	}
	return b, nil
}

package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DefaultPrefix is where records go unless ORGWARDEN_JOURNAL_PREFIX says otherwise.
const DefaultPrefix = "offboarding/"

// Key is the S3 key of the record of one request:
//
//	<prefix><yyyy>/<mm>/<dd>/<email>-<email digest>-<request key>.json
//
// The date is when the request was made (UTC), so a redelivery or a
// duplicate of the request lands on the same record, a bucket lifecycle rule
// can expire old records by prefix, and an auditor can list a day. The email
// comes before the request key so that a person's records of one day sort
// together; requestKey is message.Request.RequestKey.
//
// The readable email is lossy (o'brien and o_brien read the same), so the
// digest of the exact email (trimmed, lower case: the Admin API ignores
// case) follows it: two people never share a record.
func Key(prefix string, requestedAt time.Time, email, requestKey string) string {
	return prefix + requestedAt.UTC().Format("2006/01/02") + "/" + emailSlug(normalEmail(email)) + "-" + EmailDigest(email) + "-" + requestKey + ".json"
}

// EmailDigest is 64 bits of the SHA-256 of the normalised email, in hex.
func EmailDigest(email string) string {
	sum := sha256.Sum256([]byte(normalEmail(email)))
	return hex.EncodeToString(sum[:8])
}

func normalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// emailSlug keeps an email readable in a key; characters S3 or a shell
// would trip over become '_'. The record itself holds the exact email.
func emailSlug(email string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("@._+-", r):
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '_'
	}, email)
}

// ObjectAPI is what the journal needs of S3: reads, conditional writes and
// listing (the previews). *s3.Client has it; unit tests pass an in-memory
// store (testenv/memobjects).
type ObjectAPI interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	s3.ListObjectsV2APIClient
}

// Store keeps records in one S3 bucket.
type Store struct {
	S3     ObjectAPI
	Bucket string
}

// Location is the s3:// URL of a key in the store.
func (s *Store) Location(key string) string { return "s3://" + s.Bucket + "/" + key }

// Entry is a record as loaded, with what Save needs to detect a
// concurrent writer.
type Entry struct {
	Record *Record
	etag   string // empty: the object did not exist
	store  *Store
}

// Open loads the record at key, or starts a new one with fresh when there
// is none.
func (s *Store) Open(ctx context.Context, key string, fresh func() *Record) (*Entry, error) {
	rec, etag, err := s.load(ctx, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return &Entry{Record: fresh(), store: s}, nil
	}
	if want := fresh(); normalEmail(rec.Email) != normalEmail(want.Email) {
		// Keys are meant to be injective; should two emails ever meet on
		// one, refuse rather than mix two people's offboardings.
		return nil, fmt.Errorf("journal %s belongs to another person (%s)", s.Location(key), rec.Email)
	}
	return &Entry{Record: rec, etag: etag, store: s}, nil
}

// load reads the record at key, or nil when there is none. A record that
// carries a checksum must match it, and its metadata; one without (written
// before checksums) is read as it is: the function continues its own
// records, restore (Read) accepts only verified ones.
func (s *Store) load(ctx context.Context, key string) (*Record, string, error) {
	obj, err := s.get(ctx, key, "journal")
	if err != nil || obj == nil {
		return nil, "", err
	}
	rec, err := Decode(obj.body)
	if err != nil {
		return nil, "", fmt.Errorf("read journal %s: %w", s.Location(key), err)
	}
	if rec.Checksum != "" {
		if err := verify(rec, key, obj.meta); err != nil {
			return nil, "", fmt.Errorf("read journal %s: %w", s.Location(key), err)
		}
	}
	return rec, obj.etag, nil
}

// object is what get read: the body, its metadata and its ETag.
type object struct {
	body []byte
	meta map[string]string
	etag string
}

// get reads the object at key whole, or nil when there is none; what names
// the kind of object in errors ("journal", "preview").
func (s *Store) get(ctx context.Context, key, what string) (*object, error) {
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) || httpStatus(err) == http.StatusNotFound {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s %s: %w", what, s.Location(key), err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, s.Location(key), err)
	}
	return &object{body: body, meta: out.Metadata, etag: aws.ToString(out.ETag)}, nil
}

// MetaChecksum is the object metadata (x-amz-meta-orgwarden-sha256) that
// repeats a record's checksum.
const MetaChecksum = "orgwarden-sha256"

// ErrUntrusted means a record failed a check that proves it is intact and
// where orgwarden writes records.
var ErrUntrusted = errors.New("not a verified orgwarden record")

// Sum is the checksum of a record: "sha256:" and the hex SHA-256 of its
// JSON encoding with Checksum empty. Field order is the struct's, so the
// encoding is canonical for a given record.
func Sum(r *Record) (string, error) {
	c := *r
	c.Checksum = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encode journal: %w", err)
	}
	return sha256Hex(b), nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// verify checks that rec, read from key, is intact: its checksum matches
// its content and the object's metadata, and it names the key it was read
// from (a record copied elsewhere is not the record of that key).
func verify(rec *Record, key string, meta map[string]string) error {
	if rec.Checksum == "" {
		return fmt.Errorf("%w: it has no checksum (written by a build before checksums, or not by orgwarden)", ErrUntrusted)
	}
	sum, err := Sum(rec)
	if err != nil {
		return err
	}
	if sum != rec.Checksum {
		return fmt.Errorf("%w: its content does not match its checksum (edited after it was written)", ErrUntrusted)
	}
	if metaValue(meta, MetaChecksum) != sum {
		return fmt.Errorf("%w: its object metadata %s does not match its checksum", ErrUntrusted, MetaChecksum)
	}
	if rec.Key != key {
		return fmt.Errorf("%w: it is the record of %s, not of %s", ErrUntrusted, rec.Key, key)
	}
	return nil
}

// metaValue reads user metadata; S3 returns its names in lower case.
func metaValue(meta map[string]string, name string) string {
	for k, v := range meta {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// maxConflicts bounds how often Save re-reads a record another writer
// changed under it before giving up (the caller's retry takes over).
const maxConflicts = 5

// ErrConflict means other writers kept changing the record.
var ErrConflict = errors.New("journal record changed concurrently")

// Save writes the record only if nobody else wrote it since it was read
// (If-Match, or If-None-Match for a new record). When someone did (a
// duplicate of the request processed concurrently), it re-reads their
// version, merges it into ours (Record.Merge) and tries again, so neither
// writer's outcomes are lost.
func (e *Entry) Save(ctx context.Context) error {
	s := e.store
	for range maxConflicts {
		sum, err := Sum(e.Record)
		if err != nil {
			return err
		}
		e.Record.Checksum = sum
		body, err := json.MarshalIndent(e.Record, "", "  ")
		if err != nil {
			return fmt.Errorf("encode journal: %w", err)
		}
		in := &s3.PutObjectInput{
			Bucket:      aws.String(s.Bucket),
			Key:         aws.String(e.Record.Key),
			Body:        bytes.NewReader(body),
			ContentType: aws.String("application/json"),
			Metadata:    map[string]string{MetaChecksum: sum},
		}
		if e.etag == "" {
			in.IfNoneMatch = aws.String("*")
		} else {
			in.IfMatch = aws.String(e.etag)
		}
		out, err := s.S3.PutObject(ctx, in)
		if err == nil {
			e.etag = aws.ToString(out.ETag)
			return nil
		}
		if !isConflict(err) {
			return fmt.Errorf("write journal %s: %w", s.Location(e.Record.Key), err)
		}
		theirs, etag, lerr := s.load(ctx, e.Record.Key)
		if lerr != nil {
			return lerr
		}
		e.Record.Merge(theirs)
		e.etag = etag
	}
	return fmt.Errorf("write journal %s: %w", s.Location(e.Record.Key), ErrConflict)
}

// isConflict reports a failed precondition: 412, or 409 when S3 saw a
// concurrent conditional write to the same key.
func isConflict(err error) bool {
	switch httpStatus(err) {
	case http.StatusPreconditionFailed, http.StatusConflict:
		return true
	}
	return false
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Decode reads a record and checks that it is one.
func Decode(b []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("not an offboarding record: %w", err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("offboarding record version %d, this build reads %d", r.Version, Version)
	}
	if r.Email == "" {
		return nil, errors.New("not an offboarding record: no email")
	}
	return &r, nil
}

// Read loads the record at an s3://bucket/key location for restore, and
// only if orgwarden can vouch for it:
//   - it is in the journal bucket, under the journal prefix, where only the
//     offboarding function writes (local files are refused: a file proves
//     nothing about where it came from);
//   - its key has the layout of a record (Key), not of a preview;
//   - it is intact: its checksum matches its content, its object metadata,
//     and the key it was read from.
//
// A checksum is not a signature: whoever may write the journal prefix may
// write a record. The prefix's write access is the trust boundary.
func Read(ctx context.Context, client ObjectAPI, bucket, prefix, location string) (*Record, error) {
	key, err := RecordKey(bucket, prefix, location)
	if err != nil {
		return nil, err
	}
	if c, isSDK := client.(*s3.Client); client == nil || isSDK && c == nil {
		return nil, errors.New("read record: no S3 client")
	}
	s := &Store{S3: client, Bucket: bucket}
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) || httpStatus(err) == http.StatusNotFound {
			return nil, fmt.Errorf("read record: %s does not exist", location)
		}
		return nil, fmt.Errorf("read record %s: %w", location, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read record %s: %w", location, err)
	}
	rec, err := Decode(body)
	if err != nil {
		return nil, fmt.Errorf("read record %s: %w", location, err)
	}
	if err := verify(rec, key, out.Metadata); err != nil {
		return nil, fmt.Errorf("read record %s: %w", location, err)
	}
	return rec, nil
}

// RecordKey returns the key of an s3://bucket/key location after checking
// that it names a record in the journal: the configured bucket, under the
// configured prefix, in the <yyyy>/<mm>/<dd>/ layout of Key.
func RecordKey(bucket, prefix, location string) (string, error) {
	rest, isS3 := strings.CutPrefix(location, "s3://")
	if !isS3 {
		return "", fmt.Errorf("read record: %q: %w: records are read only from the journal bucket (s3://%s/%s...), never from a local file",
			location, ErrUntrusted, bucket, prefix)
	}
	b, key, ok := strings.Cut(rest, "/")
	if !ok || b == "" || key == "" {
		return "", fmt.Errorf("read record: %q is not s3://bucket/key", location)
	}
	if b != bucket {
		return "", fmt.Errorf("read record %s: %w: bucket %s is not the journal bucket %s", location, ErrUntrusted, b, bucket)
	}
	day, ok := strings.CutPrefix(key, prefix)
	if !ok || len(day) < len("2006/01/02/x.json") || day[10] != '/' || !strings.HasSuffix(key, ".json") || strings.Contains(key, "..") {
		return "", fmt.Errorf("read record %s: %w: not a record under the journal prefix %q", location, ErrUntrusted, prefix)
	}
	if _, err := time.Parse("2006/01/02", day[:10]); err != nil {
		return "", fmt.Errorf("read record %s: %w: not a record under the journal prefix %q", location, ErrUntrusted, prefix)
	}
	return key, nil
}

// Package objects writes and reads the export's data objects: gzip JSON
// Lines, one audit event per line, each line the event's JSON as the API
// sent it.
//
// A Writer streams events through gzip into a temporary file (Lambda's
// /tmp), hashing as it goes, and Close uploads the file with the S3 upload
// manager: one PutObject below the part size, a multipart upload above it.
// The manager reads a file's parts as sections of the file, so no part is
// ever copied into memory: a Writer holds its gzip state and 64 KiB of
// buffer whatever the object's size, and the export's memory does not grow
// with the volume or density of events.
//
// Every object is written with If-None-Match: *, so a key is written at
// most once: a second writer of the same key (a retry whose first attempt
// landed, or a run that overlaps another) gets ErrExists and must adopt what
// is there by reading it back, never overwrite it.
//
// Lines are the API's bytes. The one change ever made is dropping
// insignificant whitespace when the API pretty-printed an event across
// several lines (JSON Lines needs one line per event); field order, unknown
// fields, number spelling and string escapes are kept byte for byte.
package objects

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrExists means the key already holds an object (If-None-Match failed).
var ErrExists = errors.New("object already exists")

// ErrNotFound means the key holds no object.
var ErrNotFound = errors.New("object not found")

// PartSize is the multipart part size: objects up to it go up in one
// PutObject.
const PartSize = 5 << 20

// ContentType of every data object.
const ContentType = "application/gzip"

// Store writes and reads data objects in one bucket.
type Store struct {
	s3       API
	up       uploader
	bucket   string
	kmsKeyID string
	level    int
	dir      string
	gzips    sync.Pool

	emptyOnce sync.Once
	emptySum  string
}

// Options configure a Store.
type Options struct {
	// KMSKeyID, when set, asks for SSE-KMS with this key on every object;
	// otherwise the bucket's default encryption applies.
	KMSKeyID string
	// GzipLevel defaults to gzip.BestSpeed: at a million events the export
	// is bound by compression CPU well before the API, and BestSpeed still
	// shrinks audit JSON about eight times.
	GzipLevel int
	// TempDir holds objects being written; default os.TempDir() (/tmp in
	// Lambda). It needs room for one object per concurrent writer.
	TempDir string
}

// API is what the store needs of S3: reads, and the uploads of the
// transfer manager (PutObject, and multipart for objects above PartSize).
// *s3.Client has it.
type API interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	manager.UploadAPIClient
}

// NewStore returns a store for bucket.
func NewStore(client API, bucket string, opts Options) *Store {
	if opts.GzipLevel == 0 {
		opts.GzipLevel = gzip.BestSpeed
	}
	return &Store{s3: client, up: newUploader(client), bucket: bucket, kmsKeyID: opts.KMSKeyID, level: opts.GzipLevel, dir: opts.TempDir}
}

// Info describes a data object.
type Info struct {
	Key    string `json:"key"`
	SHA256 string `json:"sha256"` // hex, of the stored (compressed) bytes
	Bytes  int64  `json:"bytes"`  // stored size
	Events int64  `json:"events"`
	// Oldest and Newest bound the events' effective_at (unix seconds); both
	// zero when the object holds no event.
	Oldest int64 `json:"oldest_effective_at,omitempty"`
	Newest int64 `json:"newest_effective_at,omitempty"`
	// FirstID and LastID are the ids on the first and last line.
	FirstID string `json:"first_id,omitempty"`
	LastID  string `json:"last_id,omitempty"`
}

// tally accumulates an object's Info as lines go by.
type tally struct{ info Info }

func (t *tally) add(id string, at int64) {
	if t.info.Events == 0 {
		t.info.Oldest, t.info.Newest, t.info.FirstID = at, at, id
	}
	t.info.Oldest = min(t.info.Oldest, at)
	t.info.Newest = max(t.info.Newest, at)
	t.info.LastID = id
	t.info.Events++
}

// Writer writes one object. It is not safe for concurrent use.
type Writer struct {
	ctx   context.Context
	store *Store
	key   string
	file  *os.File // nil for a Discard writer
	buf   *bufio.Writer
	gz    *gzip.Writer
	sum   hash.Hash
	size  int64
	raw   int64
	tally tally
	line  bytes.Buffer // compaction scratch
	err   error
	// finished is set by Finish: the gzip stream is closed and the spool
	// file complete.
	finished bool
}

// Create starts writing key; nothing exists at key until Close succeeds.
func (s *Store) Create(ctx context.Context, key string) *Writer {
	w := &Writer{ctx: ctx, store: s, key: key, sum: sha256.New()}
	f, err := os.CreateTemp(s.dir, SpoolPattern)
	if err != nil {
		w.err = fmt.Errorf("write %s: spool file: %w", key, err)
		return w
	}
	if err := lockSpool(f); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		w.err = fmt.Errorf("write %s: lock spool file: %w", key, err)
		return w
	}
	w.file = f
	w.buf = bufio.NewWriterSize(io.MultiWriter(w.sum, countWriter{&w.size}, f), 64<<10)
	w.gz = s.gzipWriter(w.buf)
	return w
}

// SpoolPattern names spool files in the temp directory.
const SpoolPattern = "auditexport-*.jsonl.gz"

// RemoveOrphanSpool deletes the spool files in dir (default os.TempDir())
// whose writer is gone: what a process killed while writing left behind,
// which in Lambda stays in /tmp for the next invocation. A writer holds a
// lock on its spool file while it is open (see lockSpool), so a file
// without a lock holder belongs to a dead process, and one with a holder is
// left alone, whichever process, this one included, is writing it.
func RemoveOrphanSpool(dir string) (int, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	names, err := filepath.Glob(filepath.Join(dir, SpoolPattern))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if ownerGone(name) && os.Remove(name) == nil {
			n++
		}
	}
	return n, nil
}

// Discard returns a writer that computes the object's Info exactly as
// Create would, and writes nothing: the dry run's sink.
func (s *Store) Discard(key string) *Writer {
	w := &Writer{store: s, key: key, sum: sha256.New()}
	w.buf = bufio.NewWriterSize(io.MultiWriter(w.sum, countWriter{&w.size}), 64<<10)
	w.gz = s.gzipWriter(w.buf)
	return w
}

func (s *Store) gzipWriter(w io.Writer) *gzip.Writer {
	if z, ok := s.gzips.Get().(*gzip.Writer); ok {
		z.Reset(w)
		return z
	}
	z, err := gzip.NewWriterLevel(w, s.level)
	if err != nil {
		z = gzip.NewWriter(w)
	}
	return z
}

// Events is the number of events written so far.
func (w *Writer) Events() int64 { return w.tally.info.Events }

// RawBytes is the uncompressed size written so far.
func (w *Writer) RawBytes() int64 { return w.raw }

// Add appends one event as one line.
func (w *Writer) Add(id string, effectiveAt int64, raw []byte) error {
	if w.err != nil {
		return w.err
	}
	line := raw
	if bytes.IndexByte(raw, '\n') >= 0 || bytes.IndexByte(raw, '\r') >= 0 {
		w.line.Reset()
		if err := json.Compact(&w.line, raw); err != nil {
			return fmt.Errorf("event %s: %w", id, err)
		}
		line = w.line.Bytes()
	}
	if _, err := w.gz.Write(line); err != nil {
		return w.fail(err)
	}
	if _, err := w.gz.Write(newline); err != nil {
		return w.fail(err)
	}
	w.raw += int64(len(line)) + 1
	w.tally.add(id, effectiveAt)
	return nil
}

var newline = []byte{'\n'}

func (w *Writer) fail(err error) error {
	w.err = fmt.Errorf("write %s: %w", w.key, classify(err))
	return w.err
}

// Close finishes the object and uploads it. It returns ErrExists
// (wrapped) when the key was already written.
func (w *Writer) Close() (Info, error) {
	defer w.release()
	info, err := w.Finish()
	if err != nil {
		return Info{}, err
	}
	return info, w.Upload(w.key)
}

// Finish ends the object without uploading it: its content, and so its
// Info (SHA-256 included), is final. The exporter records the hash in its
// intent before Upload, so that an object found at the key later can be
// told apart from one someone else put there.
func (w *Writer) Finish() (Info, error) {
	if w.err != nil {
		return Info{}, w.err
	}
	if !w.finished {
		if err := w.gz.Close(); err != nil {
			return Info{}, fmt.Errorf("write %s: %w", w.key, err)
		}
		if err := w.buf.Flush(); err != nil {
			return Info{}, fmt.Errorf("write %s: %w", w.key, err)
		}
		w.finished = true
	}
	info := w.tally.info
	info.Key, info.SHA256, info.Bytes = w.key, hex.EncodeToString(w.sum.Sum(nil)), w.size
	return info, nil
}

// Upload writes the finished object at key (its own key, or another one
// when its own was found taken), with If-None-Match: *. It returns
// ErrExists (wrapped) when key already holds an object. The spool file
// stays until Abort, so a second Upload to another key sends the same
// bytes.
func (w *Writer) Upload(key string) error {
	if !w.finished {
		return fmt.Errorf("write %s: upload before finish", key)
	}
	if w.file == nil {
		return nil // a Discard writer
	}
	if err := w.store.upload(w.ctx, key, io.NewSectionReader(w.file, 0, w.size)); err != nil {
		return fmt.Errorf("write %s: %w", key, classify(err))
	}
	return nil
}

// Abort drops the object (or, after Finish and Upload, its spool file);
// nothing more is written.
func (w *Writer) Abort() { w.release() }

// release returns the gzip state and removes the spool file.
func (w *Writer) release() {
	if w.gz != nil {
		w.store.gzips.Put(w.gz)
		w.gz = nil
	}
	if w.file != nil {
		_ = w.file.Close()
		_ = os.Remove(w.file.Name())
		w.file = nil
	}
}

func (s *Store) upload(ctx context.Context, key string, body *io.SectionReader) error {
	in := &s3.PutObjectInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(key),
		Body:        body,
		ContentType: aws.String(ContentType),
		IfNoneMatch: aws.String("*"),
	}
	if s.kmsKeyID != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(s.kmsKeyID)
	}
	return s.up.upload(ctx, in)
}

type countWriter struct{ n *int64 }

func (c countWriter) Write(p []byte) (int, error) { *c.n += int64(len(p)); return len(p), nil }

// classify maps S3's precondition answers to ErrExists and a missing key to
// ErrNotFound, keeping the original error in the chain.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch status := httpStatus(err); {
	case status == http.StatusPreconditionFailed, status == http.StatusConflict:
		return errors.Join(ErrExists, err)
	case status == http.StatusNotFound:
		return errors.Join(ErrNotFound, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict":
			return errors.Join(ErrExists, err)
		case "NoSuchKey", "NotFound":
			return errors.Join(ErrNotFound, err)
		}
	}
	return err
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Classify is classify for callers that make their own S3 requests.
func Classify(err error) error { return classify(err) }

// EmptySHA256 is the hash of an object with no event as this store writes
// it: what the exporter fences an announced but unwritten key with.
func (s *Store) EmptySHA256() string {
	s.emptyOnce.Do(func() {
		info, _ := s.Discard("").Finish()
		s.emptySum = info.SHA256
	})
	return s.emptySum
}

// Hash reads key and returns the SHA-256 and size of its stored bytes,
// whatever they hold: enough to tell whether an object is exactly the one
// the caller meant to write, without trusting its content to parse.
func (s *Store) Hash(ctx context.Context, key string) (Info, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return Info{}, fmt.Errorf("read %s: %w", key, classify(err))
	}
	defer out.Body.Close()
	sum := sha256.New()
	n, err := io.Copy(sum, out.Body)
	if err != nil {
		return Info{}, fmt.Errorf("read %s: %w", key, err)
	}
	return Info{Key: key, SHA256: hex.EncodeToString(sum.Sum(nil)), Bytes: n}, nil
}

// Line is one event line read back from an object.
type Line struct {
	ID          string
	EffectiveAt int64
	Type        string
	Raw         []byte // valid only during the callback
}

// MaxLine is the longest line Scan accepts.
const MaxLine = 16 << 20

// Read fetches key and scans it, computing its Info; fn, when not nil, is
// called for every line. Memory stays bounded by the longest line.
func (s *Store) Read(ctx context.Context, key string, fn func(Line) error) (Info, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return Info{}, fmt.Errorf("read %s: %w", key, classify(err))
	}
	defer out.Body.Close()
	info, err := Scan(out.Body, fn)
	if err != nil {
		return Info{}, fmt.Errorf("read %s: %w", key, err)
	}
	info.Key = key
	return info, nil
}

// Scan reads a gzip JSON Lines stream, hashing the compressed bytes and
// checking that every line is an event with an id and an effective_at.
func Scan(r io.Reader, fn func(Line) error) (Info, error) {
	sum := sha256.New()
	var size int64
	tee := io.TeeReader(r, io.MultiWriter(sum, countWriter{&size}))
	zr, err := gzip.NewReader(bufio.NewReaderSize(tee, 64<<10))
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Info{}, fmt.Errorf("gzip: %w", err)
	}
	var t tally
	br := bufio.NewReaderSize(zr, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
				if len(long) > MaxLine {
					return Info{}, fmt.Errorf("line %d: longer than %d bytes", n, MaxLine)
				}
			}
			line = long
		}
		if len(line) == 0 && errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Info{}, fmt.Errorf("line %d: decompress: %w", n, err)
		}
		if line[len(line)-1] != '\n' {
			return Info{}, fmt.Errorf("line %d: not terminated by a newline", n)
		}
		raw := line[:len(line)-1]
		head, herr := ParseHead(raw)
		if herr != nil {
			return Info{}, fmt.Errorf("line %d: %w", n, herr)
		}
		t.add(head.ID, head.EffectiveAt)
		if fn != nil {
			head.Raw = raw
			if err := fn(head); err != nil {
				return Info{}, err
			}
		}
	}
	if err := zr.Close(); err != nil {
		return Info{}, fmt.Errorf("gzip: %w", err)
	}
	// Drain what gzip did not need (nothing, for our objects) so the hash
	// covers every stored byte.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return Info{}, fmt.Errorf("read: %w", err)
	}
	info := t.info
	info.SHA256, info.Bytes = hex.EncodeToString(sum.Sum(nil)), size
	return info, nil
}

// ParseHead reads the fields the exporter needs from one event's JSON.
func ParseHead(raw []byte) (Line, error) {
	var head struct {
		ID          string          `json:"id"`
		Type        string          `json:"type"`
		EffectiveAt json.RawMessage `json:"effective_at"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Line{}, fmt.Errorf("not an event: %w", err)
	}
	if head.ID == "" {
		return Line{}, errors.New("event without id")
	}
	var at int64
	if err := json.Unmarshal(head.EffectiveAt, &at); err != nil || len(head.EffectiveAt) == 0 {
		return Line{}, fmt.Errorf("event %s: effective_at is not an integer", head.ID)
	}
	return Line{ID: head.ID, Type: head.Type, EffectiveAt: at}, nil
}

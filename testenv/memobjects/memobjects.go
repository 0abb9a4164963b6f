// Package memobjects is an in-memory object store with the S3 client's
// method signatures, for unit tests of the packages that keep state in S3
// (the export's checkpoint, offboarding's journal) through the narrow
// interfaces those packages declare. It answers as S3 does where those
// packages depend on it: conditional writes (If-None-Match: *, If-Match
// with an ETag) fail with HTTP 412, a missing key is NoSuchKey, ETags
// change on every write, listing is by prefix in key order.
//
// It is not a substitute for testenv/awslocal/s3: the protocol, encryption
// and the export's objects are tested there. TestBehavesLikeLocalS3 runs
// the same cases against both so that the two cannot drift apart.
package memobjects

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Store is safe for concurrent use. The zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	objects map[string]object // bucket + "/" + key
	writes  int
	// FailNext, when set, makes the next call fail with this error (for
	// tests of unreadable state); it is cleared when used.
	FailNext error
}

type object struct {
	body     []byte
	etag     string
	metadata map[string]string
	modified time.Time
}

// New returns an empty store; every bucket exists.
func New() *Store { return &Store{objects: map[string]object{}} }

func path(bucket, key *string) string { return aws.ToString(bucket) + "/" + aws.ToString(key) }

func (s *Store) takeFailure() error {
	err := s.FailNext
	s.FailNext = nil
	return err
}

// GetObject returns the object's bytes, ETag and metadata.
func (s *Store) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure(); err != nil {
		return nil, err
	}
	o, ok := s.objects[path(in.Bucket, in.Key)]
	if !ok {
		return nil, responseError(http.StatusNotFound, &types.NoSuchKey{Message: aws.String("The specified key does not exist.")})
	}
	return &s3.GetObjectOutput{
		Body:          io.NopCloser(bytes.NewReader(o.body)),
		ContentLength: aws.Int64(int64(len(o.body))),
		ETag:          aws.String(o.etag),
		Metadata:      clone(o.metadata),
		LastModified:  aws.Time(o.modified),
	}, nil
}

// PutObject stores the body, honouring IfNoneMatch ("*" only, as S3) and
// IfMatch.
func (s *Store) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	var body []byte
	if in.Body != nil {
		b, err := io.ReadAll(in.Body)
		if err != nil {
			return nil, fmt.Errorf("memobjects: read body: %w", err)
		}
		body = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure(); err != nil {
		return nil, err
	}
	p := path(in.Bucket, in.Key)
	old, exists := s.objects[p]
	switch {
	case in.IfNoneMatch != nil && *in.IfNoneMatch != "*":
		return nil, responseError(http.StatusNotImplemented, &smithy.GenericAPIError{Code: "NotImplemented", Message: "If-None-Match supports only *"})
	case in.IfMatch != nil && !exists:
		// NoSuchKey is not one of PutObject's modelled errors: the SDK
		// returns it as a generic API error with that code.
		return nil, responseError(http.StatusNotFound, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "The specified key does not exist."})
	case in.IfNoneMatch != nil && exists, in.IfMatch != nil && old.etag != *in.IfMatch:
		return nil, responseError(http.StatusPreconditionFailed, &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "At least one of the pre-conditions you specified did not hold"})
	}
	s.writes++
	sum := md5.Sum(append(body, fmt.Sprint(s.writes)...))
	o := object{body: body, etag: `"` + hex.EncodeToString(sum[:]) + `"`, metadata: clone(in.Metadata), modified: time.Now().UTC()}
	s.objects[p] = o
	return &s3.PutObjectOutput{ETag: aws.String(o.etag)}, nil
}

// ListObjectsV2 lists keys under Prefix in key order, MaxKeys (default
// 1000) at a time, continuing from ContinuationToken or StartAfter.
func (s *Store) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure(); err != nil {
		return nil, err
	}
	bucket := aws.ToString(in.Bucket) + "/"
	prefix := aws.ToString(in.Prefix)
	after := aws.ToString(in.StartAfter)
	if t := aws.ToString(in.ContinuationToken); t != "" {
		after = t
	}
	var keys []string
	for p := range s.objects {
		if k, ok := strings.CutPrefix(p, bucket); ok && strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	limit := int(aws.ToInt32(in.MaxKeys))
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	out := &s3.ListObjectsV2Output{Name: in.Bucket, Prefix: in.Prefix}
	if len(keys) > limit {
		keys = keys[:limit]
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String(keys[len(keys)-1])
	}
	for _, k := range keys {
		o := s.objects[bucket+k]
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), ETag: aws.String(o.etag), Size: aws.Int64(int64(len(o.body))), LastModified: aws.Time(o.modified)})
	}
	out.KeyCount = aws.Int32(int32(len(out.Contents)))
	return out, nil
}

// Put stores body at bucket/key unconditionally: what someone else, or
// an earlier version, left there.
func (s *Store) Put(bucket, key string, body []byte) {
	_, _ = s.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
}

// Get returns the bytes at bucket/key.
func (s *Store) Get(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[bucket+"/"+key]
	return o.body, ok
}

// Delete removes bucket/key.
func (s *Store) Delete(bucket, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, bucket+"/"+key)
}

// responseError is how the SDK surfaces an HTTP error: the operation's
// error wrapped in a ResponseError carrying the status.
func responseError(status int, err error) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
		Err:      err,
	}
}

func clone(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		// S3 returns user metadata names in lower case.
		out[strings.ToLower(k)] = v
	}
	return out
}

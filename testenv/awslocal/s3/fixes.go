package s3

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"hash/fnv"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/ids"
)

// The gofakes3 v1.2.0 behaviours corrected here, each covered by a test in
// s3_test.go or multipart_test.go:
//
//  1. CompleteMultipartUpload ignored If-None-Match and If-Match, so a
//     "create only" multipart upload silently overwrote an existing object.
//     Conditional writes (PutObject and CompleteMultipartUpload) are now
//     evaluated here, serialised per key with every other write to that key,
//     so two racing conditional writers cannot both win.
//  2. After a multipart upload, HEAD and GET answered with the MD5 of the
//     whole body as ETag while CompleteMultipartUpload had answered S3's
//     "<md5 of part md5s>-<parts>" form, so an If-Match with the ETag the
//     upload returned always failed. The multipart ETag is now what HEAD, GET
//     and If-Match see (ListObjects still shows the MD5 form).
//  3. Overwriting an object kept the old object's metadata for every header
//     the new write did not send (gofakes3.MergeMetadata). S3 replaces it:
//     a stale x-amz-checksum-crc32 from an earlier PutObject even made the
//     SDK's response-checksum validation fail on the new object.
//  4. Write responses carried no server-side-encryption headers. S3 encrypts
//     every new object (SSE-S3, AES256, unless the request asks for SSE-KMS)
//     and echoes x-amz-server-side-encryption (and the KMS key id) on
//     PutObject, CreateMultipartUpload, CompleteMultipartUpload, GetObject
//     and HeadObject.
//  5. GET and HEAD echoed request-only headers of the original upload
//     (x-amz-date, x-amz-content-sha256, ...), and ranged GETs carried the
//     full-object checksum, which S3 never sends with a part of an object.

const (
	hdrSSE         = "X-Amz-Server-Side-Encryption"
	hdrSSEKMSKeyID = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
	hdrSSEBucketKy = "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled"
)

// requestOnlyHeaders are headers of the upload request that gofakes3 stores
// as metadata but S3 never returns.
var requestOnlyHeaders = []string{
	"X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Decoded-Content-Length",
	"X-Amz-Trailer", "X-Amz-Sdk-Checksum-Algorithm", "X-Amz-Security-Token",
	"X-Amz-User-Agent", "X-Amz-Copy-Source",
}

// backend is the in-memory gofakes3 backend with S3's replace-on-write
// metadata semantics (fix 3): keys of the old object that the new write does
// not set are written as empty tombstones, which fixes drops from responses.
type backend struct {
	*s3mem.Backend
}

func (b *backend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if meta == nil {
		meta = map[string]string{}
	}
	if old, err := b.Backend.HeadObject(bucket, key); err == nil {
		for k := range old.Metadata {
			if _, ok := meta[k]; !ok {
				meta[k] = ""
			}
		}
	}
	return b.Backend.PutObject(bucket, key, meta, input, size, cond)
}

// fixes is the http.Handler in front of gofakes3.
type fixes struct {
	next    http.Handler
	backend *backend

	// stripes serialise writes to one key; 64 stripes keep unrelated keys
	// from waiting on each other without a lock per key.
	stripes [64]sync.Mutex

	mu    sync.Mutex
	etags map[string]string // bucket/key -> multipart ETag, quoted (fix 2)

	// ignoreConditions plays a server (or a proxy in front of one) that
	// drops If-Match and If-None-Match: every write lands.
	ignoreConditions atomic.Bool
}

func newFixes(next http.Handler, b *backend) *fixes {
	return &fixes{next: next, backend: b, etags: map[string]string{}}
}

func (f *fixes) lock(objectKey string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(objectKey))
	m := &f.stripes[h.Sum32()%uint32(len(f.stripes))]
	m.Lock()
	return m.Unlock
}

type operation int

const (
	opOther operation = iota
	opPut             // PutObject or CopyObject
	opCreateMultipart
	opComplete
	opDelete
	opRead // GetObject or HeadObject
)

func classify(r *http.Request, key string) operation {
	if key == "" {
		return opOther
	}
	q := r.URL.Query()
	q.Del("x-id") // the SDK tags requests with ?x-id=<Operation>
	switch r.Method {
	case http.MethodPut:
		if len(q) == 0 {
			return opPut
		}
	case http.MethodPost:
		if q.Has("uploads") {
			return opCreateMultipart
		}
		if q.Has("uploadId") {
			return opComplete
		}
	case http.MethodDelete:
		if len(q) == 0 || (len(q) == 1 && q.Has("versionId")) {
			return opDelete
		}
	case http.MethodGet, http.MethodHead:
		if !q.Has("uploadId") && !q.Has("tagging") && !q.Has("acl") {
			return opRead
		}
	}
	return opOther
}

func (f *fixes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	objectKey := bucket + "/" + key
	switch op := classify(r, key); op {
	case opPut, opComplete:
		f.serveWrite(w, r, op, bucket, key, objectKey)
	case opCreateMultipart:
		defaultEncryption(r)
		rw := &rewriter{ResponseWriter: w, onHeader: func(h http.Header, status int) {
			if status == http.StatusOK {
				echoEncryption(h, r.Header)
			}
		}}
		rw.serve(f.next, r)
	case opDelete:
		defer f.lock(objectKey)()
		rw := &rewriter{ResponseWriter: w}
		rw.serve(f.next, r)
		if rw.status/100 == 2 {
			f.forgetETag(objectKey)
		}
	case opRead:
		f.serveRead(w, r, objectKey)
	default:
		f.next.ServeHTTP(w, r)
	}
}

func (f *fixes) serveWrite(w http.ResponseWriter, r *http.Request, op operation, bucket, key, objectKey string) {
	defer f.lock(objectKey)()
	if f.ignoreConditions.Load() {
		r.Header.Del("If-Match")
		r.Header.Del("If-None-Match")
	}

	ifMatch, ifNoneMatch := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	if ifMatch != "" || ifNoneMatch != "" {
		current, exists := f.currentETag(bucket, key, objectKey)
		switch {
		case ifNoneMatch != "" && ifNoneMatch != "*":
			writeError(w, r, http.StatusNotImplemented, "NotImplemented", "If-None-Match accepts only the value *", objectKey)
			return
		case ifNoneMatch == "*" && exists:
			writeError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", objectKey)
			return
		case ifMatch != "" && !exists:
			writeError(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", objectKey)
			return
		case ifMatch != "" && !sameETag(ifMatch, current):
			writeError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", objectKey)
			return
		}
		// Evaluated here under the key's lock; gofakes3 would compare If-Match
		// with the body MD5 and reject multipart ETags.
		r.Header.Del("If-Match")
		r.Header.Del("If-None-Match")
	}

	if op == opPut && r.Header.Get("X-Amz-Copy-Source") == "" {
		defaultEncryption(r)
	}
	rw := &rewriter{ResponseWriter: w, captureBody: op == opComplete}
	rw.onHeader = func(h http.Header, status int) {
		if status != http.StatusOK {
			return
		}
		if op == opComplete {
			// The stored object carries the SSE headers of CreateMultipartUpload.
			if obj, err := f.backend.Backend.HeadObject(bucket, key); err == nil {
				echoEncryption(h, headerFromMetadata(obj.Metadata))
			}
			return
		}
		echoEncryption(h, r.Header)
	}
	rw.serve(f.next, r)
	if rw.status != http.StatusOK {
		return
	}
	if op == opComplete {
		var res struct {
			ETag string `xml:"ETag"`
		}
		if err := xml.Unmarshal(rw.body.Bytes(), &res); err == nil && res.ETag != "" {
			f.mu.Lock()
			f.etags[objectKey] = res.ETag
			f.mu.Unlock()
		}
		return
	}
	f.forgetETag(objectKey)
}

func (f *fixes) serveRead(w http.ResponseWriter, r *http.Request, objectKey string) {
	f.mu.Lock()
	multipartETag, isMultipart := f.etags[objectKey]
	f.mu.Unlock()
	if isMultipart {
		// gofakes3 answers 304 only for the MD5 ETag it knows.
		if inm := r.Header.Get("If-None-Match"); inm != "" && sameETag(inm, multipartETag) {
			w.Header().Set("ETag", multipartETag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	ranged := r.Header.Get("Range") != ""
	rw := &rewriter{ResponseWriter: w, onHeader: func(h http.Header, status int) {
		for k, v := range h {
			if len(v) == 1 && v[0] == "" {
				delete(h, k) // metadata tombstone (fix 3)
			}
		}
		for _, k := range requestOnlyHeaders {
			h.Del(k)
		}
		if ranged || status == http.StatusPartialContent {
			for k := range h {
				if strings.HasPrefix(k, "X-Amz-Checksum-") {
					delete(h, k)
				}
			}
		}
		if isMultipart && status/100 == 2 {
			h.Set("ETag", multipartETag)
		}
	}}
	rw.serve(f.next, r)
}

// currentETag reports whether the object exists and its ETag as HEAD shows it.
func (f *fixes) currentETag(bucket, key, objectKey string) (string, bool) {
	obj, err := f.backend.Backend.HeadObject(bucket, key)
	if err != nil || obj.IsDeleteMarker {
		return "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if etag, ok := f.etags[objectKey]; ok {
		return etag, true
	}
	return `"` + hex.EncodeToString(obj.Hash) + `"`, true
}

// sameETag compares ETags with or without their quotes.
func sameETag(a, b string) bool { return strings.Trim(a, `"`) == strings.Trim(b, `"`) }

func (f *fixes) forgetETag(objectKey string) {
	f.mu.Lock()
	delete(f.etags, objectKey)
	f.mu.Unlock()
}

// defaultEncryption applies the bucket default S3 has had since January 2023:
// objects written without SSE headers are encrypted with SSE-S3. Setting the
// header on the request makes gofakes3 store it with the object.
func defaultEncryption(r *http.Request) {
	if r.Header.Get(hdrSSE) == "" && r.Header.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm") == "" {
		r.Header.Set(hdrSSE, "AES256")
	}
}

func echoEncryption(dst, src http.Header) {
	for _, k := range []string{hdrSSE, hdrSSEKMSKeyID, hdrSSEBucketKy} {
		if v := src.Get(k); v != "" {
			dst.Set(k, v)
		}
	}
}

func headerFromMetadata(meta map[string]string) http.Header {
	h := http.Header{}
	for k, v := range meta {
		h.Set(k, v)
	}
	return h
}

// writeError writes an S3 XML error.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message, resource string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", ids.UUID())
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	_ = xml.NewEncoder(&buf).Encode(struct {
		XMLName  xml.Name `xml:"Error"`
		Code     string
		Message  string
		Resource string
	}{Code: code, Message: message, Resource: "/" + resource})
	_, _ = w.Write(buf.Bytes())
}

// rewriter lets fixes adjust headers just before gofakes3 sends them, and
// remember the status (and, when asked, the body) of the answer.
type rewriter struct {
	http.ResponseWriter
	onHeader    func(h http.Header, status int)
	captureBody bool

	status int
	body   bytes.Buffer
}

func (w *rewriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	if w.onHeader != nil {
		w.onHeader(w.Header(), status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *rewriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.captureBody {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// serve runs next through w, then sends the implicit 200 of a handler that
// wrote nothing, so that onHeader still runs.
func (w *rewriter) serve(next http.Handler, r *http.Request) {
	next.ServeHTTP(w, r)
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
}

package objects_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
)

const bucket = "audit"

func newStore(t *testing.T, opts objects.Options) (*objects.Store, *s3.Client) {
	t.Helper()
	srv := s3test.New(t)
	if err := srv.CreateBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	client := srv.Client()
	return objects.NewStore(client, bucket, opts), client
}

type event struct {
	id  string
	at  int64
	raw string
}

func TestWriteReadRoundTrip(t *testing.T) {
	ctx := context.Background()
	store, client := newStore(t, objects.Options{})
	events := []event{
		{"audit_log-b", 1700000100, `{"id":"audit_log-b","type":"project.created","effective_at":1700000100,"project.created":{"id":"proj_1","data":{"name":"x"}}}`},
		// An unknown type with unknown fields, odd number spelling and escapes.
		{"audit_log-a", 1700000050, `{"type":"brand.new.type","id":"audit_log-a","effective_at":1700000050,"x_future":{"n":1.50,"s":"caf\u00e9 \"q\""},"list":[]}`},
	}
	w := store.Create(ctx, "k/obj.jsonl.gz")
	for _, e := range events {
		if err := w.Add(e.id, e.at, []byte(e.raw)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if info.Events != 2 || info.Oldest != 1700000050 || info.Newest != 1700000100 || info.FirstID != "audit_log-b" || info.LastID != "audit_log-a" {
		t.Fatalf("info = %+v", info)
	}

	stored := get(t, client, "k/obj.jsonl.gz")
	if sum := sha256.Sum256(stored); hex.EncodeToString(sum[:]) != info.SHA256 || int64(len(stored)) != info.Bytes {
		t.Fatalf("Info says sha %s, %d bytes; stored object has %x, %d bytes", info.SHA256, info.Bytes, sum, len(stored))
	}
	if got, want := gunzip(t, stored), events[0].raw+"\n"+events[1].raw+"\n"; got != want {
		t.Fatalf("stored lines differ from the API's bytes:\n got %q\nwant %q", got, want)
	}

	var lines []string
	back, err := store.Read(ctx, "k/obj.jsonl.gz", func(l objects.Line) error {
		lines = append(lines, string(l.Raw))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if back != info {
		t.Fatalf("Read info %+v != written %+v", back, info)
	}
	if len(lines) != 2 || lines[1] != events[1].raw {
		t.Fatalf("Read lines %q", lines)
	}
}

func TestPrettyPrintedEventBecomesOneLine(t *testing.T) {
	ctx := context.Background()
	store, client := newStore(t, objects.Options{})
	raw := "{\n  \"id\": \"audit_log-p\",\r\n  \"effective_at\": 5,\n  \"s\": \"a  b\"\n}"
	w := store.Create(ctx, "p.jsonl.gz")
	if err := w.Add("audit_log-p", 5, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := gunzip(t, get(t, client, "p.jsonl.gz")); got != `{"id":"audit_log-p","effective_at":5,"s":"a  b"}`+"\n" {
		t.Fatalf("got %q", got)
	}
}

func TestKeyIsWrittenOnce(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct {
		name   string
		events int
	}{{"single put", 3}, {"multipart", 0}} {
		t.Run(size.name, func(t *testing.T) {
			store, client := newStore(t, objects.Options{})
			first := writeObject(t, store, "dup.jsonl.gz", size.events)
			w := store.Create(ctx, "dup.jsonl.gz")
			if size.events == 0 {
				fillIncompressible(t, w, 12<<20)
			} else if err := w.Add("audit_log-other", 1, []byte(`{"id":"audit_log-other","effective_at":1}`)); err != nil {
				t.Fatal(err)
			}
			_, err := w.Close()
			if !errors.Is(err, objects.ErrExists) {
				t.Fatalf("second write: err = %v, want ErrExists", err)
			}
			stored := get(t, client, "dup.jsonl.gz")
			if sum := sha256.Sum256(stored); hex.EncodeToString(sum[:]) != first.SHA256 {
				t.Fatal("the second writer replaced the first object")
			}
		})
	}
}

func TestMultipartObjectIsComplete(t *testing.T) {
	ctx := context.Background()
	store, client := newStore(t, objects.Options{})
	info := writeObject(t, store, "big.jsonl.gz", 0)
	if info.Bytes <= objects.PartSize {
		t.Fatalf("object of %d bytes did not exercise multipart", info.Bytes)
	}
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.jsonl.gz")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.Trim(aws.ToString(head.ETag), `"`), "-2") {
		t.Errorf("ETag %s: want a two-part multipart upload", aws.ToString(head.ETag))
	}
	back, err := store.Read(ctx, "big.jsonl.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	if back != info {
		t.Fatalf("read back %+v, wrote %+v", back, info)
	}
}

func TestAbortWritesNothing(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{1 << 10, 12 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			store, _ := newStore(t, objects.Options{})
			w := store.Create(ctx, "aborted.jsonl.gz")
			fillIncompressible(t, w, n)
			w.Abort()
			if _, err := store.Read(ctx, "aborted.jsonl.gz", nil); !errors.Is(err, objects.ErrNotFound) {
				t.Fatalf("after Abort: err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestSSEKMS(t *testing.T) {
	ctx := context.Background()
	store, client := newStore(t, objects.Options{KMSKeyID: "arn:aws:kms:us-east-1:000000000000:key/test"})
	writeObject(t, store, "enc.jsonl.gz", 1)
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("enc.jsonl.gz")})
	if err != nil {
		t.Fatal(err)
	}
	if head.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(head.SSEKMSKeyId) != "arn:aws:kms:us-east-1:000000000000:key/test" {
		t.Fatalf("encryption %q key %q", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
	}
}

func TestEmptyObject(t *testing.T) {
	store, _ := newStore(t, objects.Options{})
	info := writeObject(t, store, "empty.jsonl.gz", 0-1)
	back, err := store.Read(context.Background(), "empty.jsonl.gz", nil)
	if err != nil || back.Events != 0 || back.SHA256 != info.SHA256 {
		t.Fatalf("empty object read back %+v, %v (wrote %+v)", back, err, info)
	}
}

func TestScanRejects(t *testing.T) {
	good := gz(t, `{"id":"a","effective_at":1}`+"\n")
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("plain text"), "gzip"},
		{"empty", nil, "gzip"},
		{"truncated", good[:len(good)-4], "unexpected EOF"},
		{"bad checksum", append(append([]byte{}, good[:len(good)-8]...), 0, 0, 0, 0, 0, 0, 0, 0), "invalid checksum"},
		{"trailing garbage", append(append([]byte{}, good...), "junk"...), "decompress: unexpected EOF"},
		{"no newline at end", gz(t, `{"id":"a","effective_at":1}`), "not terminated"},
		{"no id", gz(t, `{"effective_at":1}`+"\n"), "without id"},
		{"string time", gz(t, `{"id":"a","effective_at":"1"}`+"\n"), "not an integer"},
		{"not json", gz(t, "{\n"), "not an event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := objects.Scan(bytes.NewReader(tt.data), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestScanLongLine(t *testing.T) {
	long := `{"id":"a","effective_at":1,"pad":"` + strings.Repeat("x", 200<<10) + `"}`
	var got string
	info, err := objects.Scan(bytes.NewReader(gz(t, long+"\n")), func(l objects.Line) error { got = string(l.Raw); return nil })
	if err != nil || info.Events != 1 || got != long {
		t.Fatalf("long line: %+v, %v, equal=%v", info, err, got == long)
	}
}

// writeObject writes n small events, or about 12 MiB of barely compressible ones (6 MiB gzipped)
// when n is 0, or nothing when n is negative.
func writeObject(t *testing.T, store *objects.Store, key string, n int) objects.Info {
	t.Helper()
	w := store.Create(context.Background(), key)
	switch {
	case n == 0:
		fillIncompressible(t, w, 12<<20)
	case n > 0:
		for i := range n {
			id := fmt.Sprintf("audit_log-%d", i)
			if err := w.Add(id, int64(1000-i), []byte(fmt.Sprintf(`{"id":%q,"effective_at":%d}`, id, 1000-i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	info, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func fillIncompressible(t *testing.T, w *objects.Writer, size int) {
	t.Helper()
	pad := make([]byte, 3000)
	for i := 0; w.RawBytes() < int64(size); i++ {
		_, _ = rand.Read(pad)
		id := fmt.Sprintf("audit_log-r%d", i)
		raw := fmt.Sprintf(`{"id":%q,"effective_at":%d,"pad":%q}`, id, 10_000-i, hex.EncodeToString(pad))
		if err := w.Add(id, int64(10_000-i), []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
}

func get(t *testing.T, client *s3.Client, key string) []byte {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Objects are spooled to a file while written; the file is gone after
// Close and after Abort, whatever the outcome.
func TestSpoolFilesAreRemoved(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, _ := newStore(t, objects.Options{TempDir: dir})
	writeObjectTo(t, store, "a.jsonl.gz")
	w := store.Create(ctx, "b.jsonl.gz")
	if err := w.Add("x", 1, []byte(`{"id":"x","effective_at":1}`)); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d spool files while one object is open", len(entries))
	}
	w.Abort()
	w = store.Create(ctx, "a.jsonl.gz") // exists: the upload fails
	if _, err := w.Close(); !errors.Is(err, objects.ErrExists) {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("spool files left behind: %v", entries)
	}
	// An unusable spool directory is an error at Close, not a panic.
	bad := objects.NewStore(nil, bucket, objects.Options{TempDir: filepath.Join(dir, "missing")})
	w = bad.Create(ctx, "c.jsonl.gz")
	if err := w.Add("x", 1, []byte(`{"id":"x","effective_at":1}`)); err == nil {
		t.Fatal("Add on a writer without a spool file succeeded")
	}
	if _, err := w.Close(); err == nil || !strings.Contains(err.Error(), "spool file") {
		t.Fatalf("Close: %v", err)
	}
}

func writeObjectTo(t *testing.T, store *objects.Store, key string) {
	t.Helper()
	w := store.Create(context.Background(), key)
	if err := w.Add("audit_log-1", 1, []byte(`{"id":"audit_log-1","effective_at":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// A spool file whose writer is gone (no lock holder: its process was
// killed) is removed at once, whatever its age; one a live writer holds is
// kept; other files are never touched.
func TestRemoveOrphanSpool(t *testing.T) {
	dir := t.TempDir()
	dead := filepath.Join(dir, "auditexport-1.jsonl.gz")
	other := filepath.Join(dir, "unrelated.gz")
	for _, p := range []string{dead, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	store := objects.NewStore(nil, "b", objects.Options{TempDir: dir})
	live := store.Create(t.Context(), "k")
	defer live.Abort()
	if err := live.Add("audit_log-1", 1, []byte(`{"id":"audit_log-1","effective_at":1}`)); err != nil {
		t.Fatal(err)
	}
	n, err := objects.RemoveOrphanSpool(dir)
	if err != nil || n != 1 {
		t.Fatalf("removed %d, %v; want 1", n, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 2 || slices.Contains(left, dead) || !slices.Contains(left, other) {
		t.Fatalf("left %v: want the live writer's spool file and %s", left, other)
	}
}

// A real process killed with SIGKILL while writing: its spool file is kept
// while it lives and removed by the first cleanup after it died.
func TestRemoveOrphanSpoolAfterKill(t *testing.T) {
	if dir := os.Getenv("ORGWARDEN_SPOOL_CHILD"); dir != "" {
		w := objects.NewStore(nil, "b", objects.Options{TempDir: dir}).Create(context.Background(), "k")
		_ = w.Add("audit_log-1", 1, []byte(`{"id":"audit_log-1","effective_at":1}`))
		fmt.Println("ready")
		select {} // until killed
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRemoveOrphanSpoolAfterKill$")
	cmd.Env = append(os.Environ(), "ORGWARDEN_SPOOL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("child said %q", line)
	}
	if n, _ := objects.RemoveOrphanSpool(dir); n != 0 {
		t.Fatalf("removed %d spool files of a live process", n)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if n, _ := objects.RemoveOrphanSpool(dir); n != 1 {
		t.Fatalf("removed %d spool files after the writer was killed, want 1", n)
	}
}

package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// ErrNoConditionalWrites means a bucket (or a proxy in front of it) does
// not honour If-None-Match or If-Match. Every exactly-once argument of the
// export rests on them, so it refuses to run.
var ErrNoConditionalWrites = errors.New("the bucket does not honour conditional writes")

// ProbeName is the object, next to the checkpoint, that the conditional
// write check writes once and then tries to overwrite.
const ProbeName = "conditional-write-probe"

// checkConditions makes sure that every bucket the export writes honours
// conditional writes: a probe object (under the state prefix) is created
// once (If-None-Match: *), then written again with If-None-Match: * and
// with a wrong If-Match, which must both fail with 412. It costs three
// requests per bucket, once per Exporter (per Lambda container); a bucket
// that passed is not probed again.
func (x *Exporter) checkConditions(ctx context.Context) error {
	x.probeMu.Lock()
	defer x.probeMu.Unlock()
	for _, bucket := range []string{x.cfg.Bucket, x.cfg.StateBucket} {
		if x.probed[bucket] {
			continue
		}
		if err := x.probe(ctx, bucket); err != nil {
			return err
		}
		if x.probed == nil {
			x.probed = map[string]bool{}
		}
		x.probed[bucket] = true
	}
	return nil
}

func (x *Exporter) probe(ctx context.Context, bucket string) error {
	// Next to the checkpoint in the state bucket; in a separate audit
	// bucket (which holds no state) under _probe/, which Athena and verify
	// skip like every name starting with an underscore.
	key := path.Join(path.Dir(x.layout.StateKey()), ProbeName)
	// The probe is encrypted as the bucket's real writes are: the state
	// bucket refuses any key but the state key (the stack's bucket policy).
	kmsKey := cmp.Or(x.cfg.StateKMSKeyID, x.cfg.KMSKeyID)
	if bucket != x.cfg.StateBucket {
		key = strings.Replace(key, "_state/", "_probe/", 1)
		kmsKey = x.cfg.KMSKeyID
	}
	put := func(ifNoneMatch, ifMatch string) error {
		in := &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), ContentType: aws.String("text/plain"),
			Body: strings.NewReader("orgwarden checks that this bucket honours If-None-Match and If-Match\n"),
		}
		if ifNoneMatch != "" {
			in.IfNoneMatch = aws.String(ifNoneMatch)
		}
		if ifMatch != "" {
			in.IfMatch = aws.String(ifMatch)
		}
		if kmsKey != "" {
			in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
			in.SSEKMSKeyId = aws.String(kmsKey)
		}
		_, err := x.s3.PutObject(ctx, in)
		return objects.Classify(err)
	}
	loc := "s3://" + bucket + "/" + key
	if err := put("*", ""); err != nil && !errors.Is(err, objects.ErrExists) {
		return fmt.Errorf("check conditional writes at %s: %w", loc, err)
	}
	for _, c := range []struct{ ifNoneMatch, ifMatch, name string }{
		{"*", "", "If-None-Match: *"},
		{"", `"00000000000000000000000000000000"`, "If-Match"},
	} {
		err := put(c.ifNoneMatch, c.ifMatch)
		switch {
		case err == nil:
			return fmt.Errorf("%w: s3://%s overwrote %s despite %s (a server or proxy that drops conditions); the export refuses to run against it", ErrNoConditionalWrites, bucket, key, c.name)
		case !errors.Is(err, objects.ErrExists):
			return fmt.Errorf("check conditional writes (%s) at %s: %w", c.name, loc, err)
		}
	}
	return nil
}

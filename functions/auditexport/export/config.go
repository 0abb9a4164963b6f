package export

import (
	"regexp"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
	"github.com/orgwarden/orgwarden/shared/config"
)

// Config is the export's own configuration (docs/architecture.md,
// "Function-specific variables").
type Config struct {
	OrgID  string
	Bucket string
	// StateBucket holds the checkpoint; default Bucket. A separate bucket
	// keeps checkpoint versions out of an Object Lock bucket.
	StateBucket string
	Prefix      string
	// KMSKeyID, when set, encrypts every object written with SSE-KMS.
	KMSKeyID string
	// StateKMSKeyID encrypts the checkpoint; default KMSKeyID. The stack
	// keeps evidence and state under different keys.
	StateKMSKeyID string
	// Lookback is re-read on every run for events that become visible late.
	Lookback time.Duration
	// SliceConcurrency is how many time slices are paged at once.
	SliceConcurrency int
	RolloverBytes    int64
	RolloverEvents   int
	// TenantEvents also exports tenant-scoped events (listed only with
	// tenant_only=true): one more list call per slice.
	TenantEvents bool
}

// Defaults.
const (
	DefaultPrefix           = "openai-audit-logs"
	DefaultLookback         = time.Hour
	DefaultSliceConcurrency = 8
	DefaultRolloverBytes    = 64 << 20
	DefaultRolloverEvents   = 100_000
)

// bucketName is S3's rule for general purpose bucket names.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ReadConfig reads the export's variables from r; check r.Err() afterwards.
func ReadConfig(r *config.Reader) Config {
	c := Config{
		OrgID:            r.Required("ORGWARDEN_ORG_ID"),
		Bucket:           r.Required("ORGWARDEN_AUDIT_BUCKET"),
		StateBucket:      r.String("ORGWARDEN_AUDIT_STATE_BUCKET", ""),
		Prefix:           r.String("ORGWARDEN_AUDIT_PREFIX", DefaultPrefix),
		KMSKeyID:         r.String("ORGWARDEN_AUDIT_KMS_KEY_ID", ""),
		StateKMSKeyID:    r.String("ORGWARDEN_AUDIT_STATE_KMS_KEY_ID", ""),
		Lookback:         r.Duration("ORGWARDEN_AUDIT_LOOKBACK", DefaultLookback, 0, 30*24*time.Hour),
		SliceConcurrency: r.Int("ORGWARDEN_AUDIT_SLICE_CONCURRENCY", DefaultSliceConcurrency, 1, 64),
		RolloverBytes:    r.Int64("ORGWARDEN_AUDIT_ROLLOVER_BYTES", DefaultRolloverBytes, 1<<20, 5<<30),
		RolloverEvents:   r.Int("ORGWARDEN_AUDIT_ROLLOVER_EVENTS", DefaultRolloverEvents, 1, 10_000_000),
		TenantEvents:     r.Bool("ORGWARDEN_AUDIT_TENANT_EVENTS", true),
	}
	if c.OrgID != "" {
		if err := layout.ValidateOrgID(c.OrgID); err != nil {
			r.Fail("ORGWARDEN_ORG_ID", "%v", err)
		}
	}
	if c.Bucket != "" && !bucketName.MatchString(c.Bucket) {
		r.Fail("ORGWARDEN_AUDIT_BUCKET", "%q is not an S3 bucket name", c.Bucket)
	}
	if c.StateBucket != "" && !bucketName.MatchString(c.StateBucket) {
		r.Fail("ORGWARDEN_AUDIT_STATE_BUCKET", "%q is not an S3 bucket name", c.StateBucket)
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	if err := layout.ValidatePrefix(c.Prefix); err != nil {
		r.Fail("ORGWARDEN_AUDIT_PREFIX", "%v", err)
	}
	if c.StateBucket == "" {
		c.StateBucket = c.Bucket
	}
	return c
}

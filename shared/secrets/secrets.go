// Package secrets resolves the admin key orgwarden uses: from
// OPENAI_ADMIN_KEY for local runs, or from a Secrets Manager secret in
// Lambda, read once and cached for the life of the container.
//
// The cache expires after an hour, like AWS's own secret caching clients, so
// a container outlives a rotation only within the rotation's grace period
// (24 h by default), and it can be invalidated at once when the API answers
// 401 for the cached key.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// TypeAdminKey and TypeServiceAccountKey are the values of the secret's
// "type" field (docs/architecture.md, "Secret formats").
const (
	TypeAdminKey          = "admin_key"
	TypeServiceAccountKey = "service_account_key"
)

// AdminKey is the key orgwarden authenticates with.
type AdminKey struct {
	Value logging.Secret
	// KeyID identifies the key in the API, so jobs can refuse to delete it.
	// Empty when unknown (OPENAI_ADMIN_KEY without an id).
	KeyID string
}

// ParseAdminKey reads an admin-key secret string: the JSON document
// {"type":"admin_key","api_key":"sk-admin-...","key_id":"key_..."}, or a
// bare key for secrets created by hand.
func ParseAdminKey(secretString string) (AdminKey, error) {
	s := strings.TrimSpace(secretString)
	if !strings.HasPrefix(s, "{") {
		if s == "" {
			return AdminKey{}, errors.New("admin key secret is empty")
		}
		return AdminKey{Value: logging.Secret(s)}, nil
	}
	var doc struct {
		Type   string `json:"type"`
		APIKey string `json:"api_key"`
		KeyID  string `json:"key_id"`
	}
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		// The JSON error could quote part of the document; say only where.
		return AdminKey{}, errors.New("admin key secret is not valid JSON")
	}
	if doc.Type != "" && doc.Type != TypeAdminKey {
		return AdminKey{}, fmt.Errorf("admin key secret has type %q, want %q", doc.Type, TypeAdminKey)
	}
	if doc.APIKey == "" {
		return AdminKey{}, errors.New("admin key secret has no api_key")
	}
	return AdminKey{Value: logging.Secret(doc.APIKey), KeyID: doc.KeyID}, nil
}

// Source yields the admin key.
type Source interface {
	AdminKey(ctx context.Context) (AdminKey, error)
}

// Static is a Source for a key given directly (OPENAI_ADMIN_KEY).
type Static AdminKey

// AdminKey returns the key.
func (s Static) AdminKey(context.Context) (AdminKey, error) { return AdminKey(s), nil }

// SecretValueGetter is the one Secrets Manager call the cache needs; the
// real *secretsmanager.Client satisfies it.
type SecretValueGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// DefaultTTL is how long a fetched key is reused.
const DefaultTTL = time.Hour

// Cached reads the AWSCURRENT version of a secret and caches it.
type Cached struct {
	client SecretValueGetter
	id     string
	ttl    time.Duration
	now    func() time.Time

	mu      sync.Mutex
	key     AdminKey
	fetched time.Time
}

// NewCached returns a Source over the secret id (name or ARN).
func NewCached(client SecretValueGetter, secretID string, ttl time.Duration) *Cached {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Cached{client: client, id: secretID, ttl: ttl, now: time.Now}
}

// AdminKey returns the cached key, fetching it when absent or expired.
func (c *Cached) AdminKey(ctx context.Context) (AdminKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key.Value != "" && c.now().Sub(c.fetched) < c.ttl {
		return c.key, nil
	}
	out, err := c.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.id)})
	if err != nil {
		return AdminKey{}, fmt.Errorf("read admin key secret %s: %w", c.id, err)
	}
	key, err := ParseAdminKey(aws.ToString(out.SecretString))
	if err != nil {
		return AdminKey{}, fmt.Errorf("read admin key secret %s: %w", c.id, err)
	}
	c.key, c.fetched = key, c.now()
	return key, nil
}

// Invalidate forgets the cached key, e.g. after the API rejected it.
func (c *Cached) Invalidate() {
	c.mu.Lock()
	c.key = AdminKey{}
	c.mu.Unlock()
}

package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// keyToken finds key values inside secret documents. It is the shape
// shared/logging redacts; Leaks uses logging.Redact itself for shapes.
var keyToken = regexp.MustCompile(`sk-[A-Za-z0-9_\-]{16,}`)

// KeyMaterial returns every key value the world holds or ever held: each
// key the emulator issued or accepted (admin, service-account and project
// keys, deleted ones included) and each key in any version of any secret in
// Secrets Manager, deprecated versions included.
func (w *World) KeyMaterial(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	for _, s := range w.Emulator.IssuedSecrets() {
		set[s] = true
	}
	c := w.AWS.SecretsManager.Client()
	list := awssm.NewListSecretsPaginator(c, &awssm.ListSecretsInput{})
	for list.HasMorePages() {
		page, err := list.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list secrets: %w", err)
		}
		for _, s := range page.SecretList {
			versions, err := c.ListSecretVersionIds(ctx, &awssm.ListSecretVersionIdsInput{SecretId: s.ARN, IncludeDeprecated: aws.Bool(true)})
			if err != nil {
				return nil, fmt.Errorf("list versions of %s: %w", aws.ToString(s.Name), err)
			}
			for _, v := range versions.Versions {
				val, err := c.GetSecretValue(ctx, &awssm.GetSecretValueInput{SecretId: s.ARN, VersionId: v.VersionId})
				if err != nil {
					return nil, fmt.Errorf("read version %s of %s: %w", aws.ToString(v.VersionId), aws.ToString(s.Name), err)
				}
				for _, k := range keyToken.FindAllString(aws.ToString(val.SecretString), -1) {
					set[k] = true
				}
			}
		}
	}
	delete(set, "")
	return slices.Sorted(func(yield func(string) bool) {
		for k := range set {
			if !yield(k) {
				return
			}
		}
	}), nil
}

// Leak is a line that holds key material. It never carries the key.
type Leak struct {
	Source string // which process or file
	Line   int    // 1-based
	// What: "planted key" (a value the world issued) or "key-shaped token".
	What string
	// Kind is the key's prefix: sk-admin-, sk-proj-, sk-svcacct- or sk-.
	Kind string
}

func (l Leak) String() string {
	return fmt.Sprintf("%s line %d: %s (%s[REDACTED])", l.Source, l.Line, l.What, l.Kind)
}

// Leaks finds key material in lines: any of the planted values, or any
// token shaped like a key (what shared/logging's redactor masks).
func Leaks(source string, lines []string, planted []string) []Leak {
	var out []Leak
	for i, line := range lines {
		if k, ok := plantedIn(line, planted); ok {
			out = append(out, Leak{Source: source, Line: i + 1, What: "planted key", Kind: kindOf(k)})
			continue
		}
		if red := logging.Redact(line); red != line {
			out = append(out, Leak{Source: source, Line: i + 1, What: "key-shaped token", Kind: kindOf(keyToken.FindString(line))})
		}
	}
	return out
}

func plantedIn(line string, planted []string) (string, bool) {
	for _, k := range planted {
		if k != "" && strings.Contains(line, k) {
			return k, true
		}
	}
	return "", false
}

func redactPlanted(line string, planted []string) string {
	for _, k := range planted {
		if k != "" && strings.Contains(line, k) {
			line = strings.ReplaceAll(line, k, kindOf(k)+logging.Redacted)
		}
	}
	return logging.Redact(line)
}

func kindOf(key string) string {
	for _, p := range []string{"sk-admin-", "sk-proj-", "sk-svcacct-"} {
		if strings.HasPrefix(key, p) {
			return p
		}
	}
	return "sk-"
}

// Logbook keeps every line the processes wrote, one file per function
// instance, and counts what was scanned.
type Logbook struct {
	dir string

	mu      sync.Mutex
	files   int
	lines   int
	leaks   []Leak
	sources map[string]int
}

// NewLogbook writes under dir.
func NewLogbook(dir string) (*Logbook, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("logbook: %w", err)
	}
	return &Logbook{dir: dir, sources: map[string]int{}}, nil
}

// Dir is where the logs are.
func (b *Logbook) Dir() string { return b.dir }

// Record writes the lines of one process group (a Function's processes)
// under source, scans them for planted key material and returns the leaks.
func (b *Logbook) Record(source string, lines []runtimeapi.Line, planted []string) ([]Leak, error) {
	texts := make([]string, len(lines))
	for i, l := range lines {
		texts[i] = l.Text
	}
	leaks := Leaks(source, texts, planted)

	b.mu.Lock()
	defer b.mu.Unlock()
	b.sources[source]++
	name := strings.NewReplacer("/", "_", " ", "_").Replace(source)
	if n := b.sources[source]; n > 1 {
		name += fmt.Sprintf(".%d", n)
	}
	// What reaches the disk is redacted: a leak is reported by place and
	// kind, and the key itself goes nowhere.
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(l.Stream)
		sb.WriteByte('\t')
		sb.WriteString(redactPlanted(l.Text, planted))
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(b.dir, name+".log"), []byte(sb.String()), 0o644); err != nil {
		return leaks, fmt.Errorf("logbook: %w", err)
	}
	b.files++
	b.lines += len(lines)
	b.leaks = append(b.leaks, leaks...)
	return leaks, nil
}

// Totals are the logbook's counts so far.
func (b *Logbook) Totals() (files, lines int, leaks []Leak) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.files, b.lines, slices.Clone(b.leaks)
}

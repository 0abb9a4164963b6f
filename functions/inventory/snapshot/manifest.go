package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
)

// ManifestFormat names the manifest document format.
const ManifestFormat = "orgwarden.inventory.manifest/1"

// Manifest describes one complete snapshot. It is written last, once every
// table's object is in place: a snapshot without a manifest is not a
// snapshot. Manifests form a digest chain like the audit export's (package
// digest): each links to the previous day's manifest by key and SHA-256,
// and numbers itself one past it, so that changing, removing or inserting
// a manifest or any object it lists breaks a hash, a count or the
// sequence, which Verify reports.
type Manifest struct {
	Format string `json:"format"`
	OrgID  string `json:"org_id"`
	// Date is the snapshot's day (the dt partition), UTC.
	Date string `json:"dt"`
	// Sequence is 1 for the first snapshot, then one more than Previous.
	Sequence int64  `json:"sequence"`
	RunID    string `json:"run_id"`
	// StartedAt and FinishedAt bound the API reads, RFC 3339 UTC.
	StartedAt  string `json:"started_at"`
	FinishedAt string `json:"finished_at"`
	// APICalls is the number of Admin API requests the snapshot took.
	APICalls int64 `json:"api_calls"`
	// Previous links to the previous snapshot's manifest; null for the
	// first. Its Generation is that snapshot's sequence.
	Previous *digest.Link `json:"previous"`
	Tables   []TableInfo  `json:"tables"`
}

// TableInfo is one table's object in a snapshot.
type TableInfo struct {
	Name    string `json:"name"`
	Key     string `json:"key"`
	SHA256  string `json:"sha256"` // hex, of the stored (gzip) bytes
	Bytes   int64  `json:"bytes"`
	Records int64  `json:"records"`
}

// Encode renders m, indented for the auditors who read it.
func (m Manifest) Encode() ([]byte, error) {
	m.Format = ManifestFormat
	if m.Tables == nil {
		m.Tables = []TableInfo{}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseManifest decodes a manifest and checks its shape.
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("decode manifest: %w", err)
	}
	if dec.More() {
		return Manifest{}, errors.New("decode manifest: trailing data")
	}
	switch {
	case m.Format != ManifestFormat:
		return Manifest{}, fmt.Errorf("manifest format %q, want %q", m.Format, ManifestFormat)
	case m.Sequence <= 0:
		return Manifest{}, fmt.Errorf("manifest sequence %d", m.Sequence)
	case m.Sequence == 1 && m.Previous != nil:
		return Manifest{}, errors.New("the first manifest links to a previous one")
	case m.Sequence > 1 && m.Previous == nil:
		return Manifest{}, fmt.Errorf("manifest %d has no link to its previous one", m.Sequence)
	}
	seen := map[string]bool{}
	for _, t := range m.Tables {
		if t.Name == "" || t.Key == "" || len(t.SHA256) != 64 || t.Records < 0 || t.Bytes < 0 {
			return Manifest{}, fmt.Errorf("manifest table %q: incomplete entry", t.Name)
		}
		if seen[t.Name] {
			return Manifest{}, fmt.Errorf("manifest lists table %s twice", t.Name)
		}
		seen[t.Name] = true
	}
	return m, nil
}

// Table returns the entry for name.
func (m Manifest) Table(name string) (TableInfo, bool) {
	for _, t := range m.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return TableInfo{}, false
}

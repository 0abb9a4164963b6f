package adminapi

import (
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Certificates (mutual TLS client certificates): uploaded to the
// organization, then activated for the organization and for projects
// separately. The project list shows every organization certificate with
// `active` for that project. A certificate active anywhere cannot be
// deleted (400), as the spec says; the organization holds at most 50.

type certificate struct {
	id                 string
	name               *string
	createdAt          int64
	validAt, expiresAt int64
	content            string
	active             bool            // at the organization level
	projects           map[string]bool // project ids where active
}

const maxCertificates = 50

type certDetailsBody struct {
	ValidAt   int64  `json:"valid_at"`
	ExpiresAt int64  `json:"expires_at"`
	Content   string `json:"content,omitempty"`
}

type certificateBody struct {
	Object             string          `json:"object"`
	ID                 string          `json:"id"`
	Name               *string         `json:"name"`
	CreatedAt          int64           `json:"created_at"`
	CertificateDetails certDetailsBody `json:"certificate_details"`
	Active             *bool           `json:"active,omitempty"`
}

const (
	certObject        = "certificate"
	orgCertObject     = "organization.certificate"
	projectCertObject = "organization.project.certificate"
)

// body renders a certificate; active is shown in lists and (de)activations,
// not for one certificate ("not returned when getting details").
func (ct *certificate) body(object string, active *bool, content bool) certificateBody {
	b := certificateBody{Object: object, ID: ct.id, Name: ct.name, CreatedAt: ct.createdAt, Active: active,
		CertificateDetails: certDetailsBody{ValidAt: ct.validAt, ExpiresAt: ct.expiresAt}}
	if content {
		b.CertificateDetails.Content = ct.content
	}
	return b
}

func (ct *certificate) orgBody() certificateBody {
	a := ct.active
	return ct.body(orgCertObject, &a, false)
}

func (ct *certificate) projectBody(projectID string) certificateBody {
	a := ct.projects[projectID]
	return ct.body(projectCertObject, &a, false)
}

func (ct *certificate) inUse() bool {
	if ct.active {
		return true
	}
	for _, on := range ct.projects {
		if on {
			return true
		}
	}
	return false
}

// parseCertificate reads a PEM certificate's validity.
func parseCertificate(content string) (validAt, expiresAt int64, ok bool) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(content)))
	if block == nil || block.Type != "CERTIFICATE" {
		return 0, 0, false
	}
	x, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return 0, 0, false
	}
	return x.NotBefore.Unix(), x.NotAfter.Unix(), true
}

// selfSigned makes a PEM certificate for seeds and tests. Ed25519 signing
// is deterministic, so the same seed and names give the same bytes.
func selfSigned(seed [32]byte, serial int64, cn string, notBefore, notAfter time.Time) string {
	key := ed25519.NewKeyFromSeed(seed[:])
	tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example Org"}},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(nil, tpl, tpl, key.Public(), key)
	if err != nil {
		panic("emulator: self-signed certificate: " + err.Error())
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func (e *Emulator) putCertificate(ct *certificate) *certificate {
	if ct.projects == nil {
		ct.projects = map[string]bool{}
	}
	e.certs.add(e.nextSeq(), ct.id, ct)
	return ct
}

// certListOrder is the certificate lists' order: newest first unless order=asc.
func certListOrder(c *call) (bool, *apiError) {
	if c.q.get("order") == "" {
		return true, nil
	}
	return c.q.order()
}

func listOrgCertificates(c *call) (any, *apiError) {
	limit, err := c.q.limit(20, 1)
	if err != nil {
		return nil, err
	}
	desc, err := certListOrder(c)
	if err != nil {
		return nil, err
	}
	return listPage(c, c.e.certs, limit, desc, nil, (*certificate).orgBody)
}

func listProjectCertificates(c *call) (any, *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	limit, err := c.q.limit(20, 1)
	if err != nil {
		return nil, err
	}
	desc, err := certListOrder(c)
	if err != nil {
		return nil, err
	}
	return listPage(c, c.e.certs, limit, desc, nil, func(ct *certificate) certificateBody { return ct.projectBody(p.id) })
}

func uploadCertificate(c *call) (any, *apiError) {
	e := c.e
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	content, err := b.requiredStr("certificate")
	if err != nil {
		return nil, err
	}
	name, hasName, err := b.str("name")
	if err != nil {
		return nil, err
	}
	validAt, expiresAt, ok := parseCertificate(content)
	if !ok {
		return nil, invalid("certificate", "'certificate' must be one X.509 certificate in PEM format")
	}
	if len(e.certs.items) >= maxCertificates {
		return nil, invalid("certificate", "an organization can hold at most %d certificates", maxCertificates)
	}
	ct := &certificate{id: e.ids.certID(), createdAt: c.now, validAt: validAt, expiresAt: expiresAt, content: content}
	if hasName {
		ct.name = &name
	}
	e.putCertificate(ct)
	c.event("", "certificate.created", ct.id, members("name", ct.name))
	return ct.body(certObject, nil, false), nil
}

func getCertificate(c *call) (any, *apiError) {
	ct, err := c.e.certs.find("certificate", c.params[0])
	if err != nil {
		return nil, err
	}
	include := c.q.array("include")
	for _, v := range include {
		if err := oneOf("include", v, "content"); err != nil {
			return nil, err
		}
	}
	return ct.body(certObject, nil, slices.Contains(include, "content")), nil
}

func modifyCertificate(c *call) (any, *apiError) {
	ct, err := c.e.certs.find("certificate", c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	name, hasName, err := b.str("name")
	if err != nil {
		return nil, err
	}
	if hasName && (ct.name == nil || *ct.name != name) {
		ct.name = &name
		c.event("", "certificate.updated", ct.id, members("name", name))
	}
	return ct.body(certObject, nil, false), nil
}

func deleteCertificate(c *call) (any, *apiError) {
	ct, err := c.e.certs.find("certificate", c.params[0])
	if err != nil {
		return nil, err
	}
	if ct.inUse() {
		return nil, invalid("certificate_id", "certificate %s is active; deactivate it for the organization and every project first", ct.id)
	}
	c.e.certs.remove(ct.id)
	c.event("", "certificate.deleted", ct.id, members("name", ct.name, "certificate", ct.content))
	return struct {
		Object string `json:"object"`
		ID     string `json:"id"`
	}{"certificate.deleted", ct.id}, nil
}

// toggled reads certificate_ids (1..10, all known) for an (de)activation.
func (c *call) toggled() ([]*certificate, *apiError) {
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	ids, has, err := b.strings("certificate_ids")
	if err != nil {
		return nil, err
	}
	if !has || len(ids) == 0 || len(ids) > 10 {
		return nil, invalid("certificate_ids", "'certificate_ids' must list 1 to 10 certificate ids")
	}
	var out []*certificate
	for _, id := range ids {
		ct, err := c.e.certs.find("certificate", id)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, ct) {
			out = append(out, ct)
		}
	}
	return out, nil
}

type certToggleBody struct {
	Object string            `json:"object"`
	Data   []certificateBody `json:"data"`
}

// toggle sets the certificates' state in one scope (projectID "" is the
// organization), all or none, and records one event for those that changed.
func (c *call) toggle(projectID string, on bool) (any, *apiError) {
	certs, err := c.toggled()
	if err != nil {
		return nil, err
	}
	object := "organization.certificate"
	if projectID != "" {
		object = "organization.project.certificate"
	}
	if on {
		object += ".activation"
	} else {
		object += ".deactivation"
	}
	out := certToggleBody{Object: object, Data: []certificateBody{}}
	changed := []obj{}
	for _, ct := range certs {
		if projectID == "" {
			if ct.active != on {
				changed = append(changed, obj{"id", ct.id, "name", ct.name})
			}
			ct.active = on
			out.Data = append(out.Data, ct.orgBody())
		} else {
			if ct.projects[projectID] != on {
				changed = append(changed, obj{"id", ct.id, "name", ct.name})
			}
			ct.projects[projectID] = on
			out.Data = append(out.Data, ct.projectBody(projectID))
		}
	}
	if len(changed) > 0 {
		typ := "certificates.deactivated"
		if on {
			typ = "certificates.activated"
		}
		c.event(projectID, typ, "", members("certificates", changed))
	}
	return out, nil
}

func activateOrgCertificates(c *call) (any, *apiError)   { return c.toggle("", true) }
func deactivateOrgCertificates(c *call) (any, *apiError) { return c.toggle("", false) }

func activateProjectCertificates(c *call) (any, *apiError) {
	return withProject(c, true, func(p *project) (any, *apiError) { return c.toggle(p.id, true) })
}

func deactivateProjectCertificates(c *call) (any, *apiError) {
	return withProject(c, true, func(p *project) (any, *apiError) { return c.toggle(p.id, false) })
}

// SelfSignedCertificatePEM returns a PEM client certificate valid from
// notBefore to notAfter, for tests that upload certificates. The same
// arguments give the same bytes.
func SelfSignedCertificatePEM(commonName string, notBefore, notAfter time.Time) string {
	var seed [32]byte
	copy(seed[:], commonName)
	return selfSigned(seed, notBefore.Unix(), commonName, notBefore.UTC(), notAfter.UTC())
}

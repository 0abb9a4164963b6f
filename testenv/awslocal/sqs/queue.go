package sqs

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"
)

// Queue attribute defaults, as SQS documents them.
const (
	defaultVisibility  = 30 * time.Second
	defaultRetention   = 345600 * time.Second // 4 days
	defaultMaxSize     = 1 << 20              // 1 MiB
	defaultMaxReceives = 10
	purgeInterval      = 60 * time.Second
)

type redrivePolicy struct {
	DeadLetterTargetARN string
	MaxReceiveCount     int
}

type queue struct {
	name, url, arn string

	visibility time.Duration
	delay      time.Duration
	retention  time.Duration
	waitTime   time.Duration
	maxSize    int
	redrive    *redrivePolicy
	// attrs holds the settable attributes as the caller gave them, to echo
	// them in GetQueueAttributes and compare them in CreateQueue.
	attrs map[string]string

	created, lastModified time.Time
	lastPurge             time.Time

	messages []*message // send order
	// wake is closed, and replaced, whenever a message may have become
	// receivable, to release long polls.
	wake chan struct{}
}

type message struct {
	id      string
	body    string
	md5Body string
	attrs   map[string]MessageAttribute
	sent    time.Time
	// visibleAt is when the message can next be received: the end of its
	// delay before the first receive, of its visibility timeout after.
	visibleAt     time.Time
	receiveCount  int
	firstReceive  time.Time
	receiptHandle string // of the latest receive
	dlqSourceARN  string // set when redrive moved the message here
}

// MessageAttribute is a message attribute as SendMessage carries it.
type MessageAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

func (q *queue) notify() {
	close(q.wake)
	q.wake = make(chan struct{})
}

func (q *queue) remove(m *message) {
	q.messages = slices.DeleteFunc(q.messages, func(x *message) bool { return x == m })
}

// expire drops messages older than the retention period.
func (q *queue) expire(now time.Time) {
	q.messages = slices.DeleteFunc(q.messages, func(m *message) bool { return now.Sub(m.sent) >= q.retention })
}

func (m *message) inFlight(now time.Time) bool { return m.receiveCount > 0 && m.visibleAt.After(now) }
func (m *message) delayed(now time.Time) bool  { return m.receiveCount == 0 && m.visibleAt.After(now) }
func (m *message) visible(now time.Time) bool  { return !m.visibleAt.After(now) }

// newReceiptHandle encodes the message id, so that a handle of a deleted
// message is still recognisably well formed.
func newReceiptHandle(messageID, nonce string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(messageID + ":" + nonce))
}

func parseReceiptHandle(h string) (messageID string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", false
	}
	id, _, ok := strings.Cut(string(raw), ":")
	return id, ok && id != ""
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// attributesMD5 is MD5OfMessageAttributes as SQS computes it: over the
// attributes sorted by name, each encoded as length-prefixed name, length-
// prefixed data type, a transport byte (1 string, 2 binary) and the
// length-prefixed value.
func attributesMD5(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	var buf []byte
	putBytes := func(b []byte) {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
		buf = append(buf, b...)
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		putBytes([]byte(name))
		putBytes([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			buf = append(buf, 2)
			putBytes(a.BinaryValue)
		} else {
			buf = append(buf, 1)
			putBytes([]byte(a.StringValue))
		}
	}
	return md5Hex(buf)
}

// size is the message size SQS checks against MaximumMessageSize: the body
// plus every attribute's name, type and value.
func messageSize(body string, attrs map[string]MessageAttribute) int {
	n := len(body)
	for name, a := range attrs {
		n += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

// validBody reports whether every character is one SQS accepts:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validBody(s string) bool {
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

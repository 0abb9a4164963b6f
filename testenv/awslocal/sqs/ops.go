package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/awslocal/awsjson"
	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/ids"
)

// senderID is what SenderId reports for every message: the local IAM user.
const senderID = "AIDAORGWARDENLOCAL0001"

var (
	queueNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	batchIDPattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	attrNamePattern  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)
)

func sqsError(status int, typ, queryCode, format string, args ...any) *awsjson.Error {
	return &awsjson.Error{Type: typ, QueryCode: queryCode, Status: status, Message: fmt.Sprintf(format, args...)}
}

func errNoQueue() *awsjson.Error {
	return sqsError(0, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
}

func errInvalidParam(format string, args ...any) *awsjson.Error {
	return sqsError(0, "InvalidParameterValueException", "InvalidParameterValue", format, args...)
}

func errMissing(name string) *awsjson.Error {
	return sqsError(0, "MissingParameter", "MissingParameter", "The request must contain the parameter %s.", name)
}

func (s *Server) queueByNameLocked(name string) *queue {
	for _, q := range s.queues {
		if q.name == name {
			return q
		}
	}
	return nil
}

func (s *Server) queueByARNLocked(arn string) *queue {
	for _, q := range s.queues {
		if q.arn == arn {
			return q
		}
	}
	return nil
}

// queueLocked resolves a QueueUrl by its account and name path; the host is
// whatever the client was configured with.
func (s *Server) queueLocked(queueURL *string) (*queue, error) {
	if queueURL == nil || *queueURL == "" {
		return nil, errMissing("QueueUrl")
	}
	u, err := url.Parse(*queueURL)
	if err != nil {
		return nil, errNoQueue()
	}
	account, name, ok := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if !ok || account != awslocal.AccountID {
		return nil, errNoQueue()
	}
	q := s.queueByNameLocked(name)
	if q == nil {
		return nil, errNoQueue()
	}
	return q, nil
}

// Queue attributes

var settableAttributes = []string{
	"DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "Policy",
	"ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "RedrivePolicy",
	"RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
	"SqsManagedSseEnabled",
}

// applyAttributes validates attrs and sets them on q. s.mu must be held.
func (s *Server) applyAttributesLocked(q *queue, attrs map[string]string) error {
	for name, v := range attrs {
		switch name {
		case "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit":
			if v == "false" && name == "FifoQueue" {
				continue
			}
			return sqsError(0, "InvalidAttributeValue", "", "Attribute %s: FIFO queues are not emulated by this local SQS.", name)
		}
		if !slices.Contains(settableAttributes, name) {
			return sqsError(0, "InvalidAttributeName", "", "Unknown Attribute %s.", name)
		}
	}
	seconds := func(name string, lo, hi int) (time.Duration, bool, error) {
		v, ok := attrs[name]
		if !ok {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, false, sqsError(0, "InvalidAttributeValue", "", "Invalid value for the parameter %s.", name)
		}
		return time.Duration(n) * time.Second, true, nil
	}
	type durAttr struct {
		name   string
		lo, hi int
		dst    *time.Duration
	}
	for _, a := range []durAttr{
		{"VisibilityTimeout", 0, 43200, &q.visibility},
		{"DelaySeconds", 0, 900, &q.delay},
		{"MessageRetentionPeriod", 60, 1209600, &q.retention},
		{"ReceiveMessageWaitTimeSeconds", 0, 20, &q.waitTime},
	} {
		d, ok, err := seconds(a.name, a.lo, a.hi)
		if err != nil {
			return err
		}
		if ok {
			*a.dst = d
		}
	}
	if v, ok := attrs["MaximumMessageSize"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > defaultMaxSize {
			return sqsError(0, "InvalidAttributeValue", "", "Invalid value for the parameter MaximumMessageSize.")
		}
		q.maxSize = n
	}
	var redrive *redrivePolicy
	if v := attrs["RedrivePolicy"]; v != "" {
		rp, err := s.parseRedrivePolicyLocked(q, v)
		if err != nil {
			return err
		}
		redrive = rp
	}
	for k, v := range attrs {
		q.attrs[k] = v
	}
	if v, ok := attrs["RedrivePolicy"]; ok {
		q.redrive = redrive
		if v == "" {
			delete(q.attrs, "RedrivePolicy")
		} else {
			// SQS answers with the policy in its own form.
			b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": redrive.DeadLetterTargetARN, "maxReceiveCount": redrive.MaxReceiveCount})
			q.attrs["RedrivePolicy"] = string(b)
		}
	}
	return nil
}

func (s *Server) parseRedrivePolicyLocked(q *queue, raw string) (*redrivePolicy, error) {
	invalid := func(reason string) error {
		return errInvalidParam("Value %s for parameter RedrivePolicy is invalid. Reason: %s", raw, reason)
	}
	var p struct {
		DeadLetterTargetARN string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, invalid("Redrive policy is not a valid JSON map.")
	}
	if p.DeadLetterTargetARN == "" {
		return nil, invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
	}
	maxReceives := defaultMaxReceives
	if len(p.MaxReceiveCount) > 0 {
		// SQS accepts the count as a number or a string.
		n, err := strconv.Atoi(strings.Trim(string(p.MaxReceiveCount), `"`))
		if err != nil || n < 1 || n > 1000 {
			return nil, invalid("Invalid value for maxReceiveCount: must be an integer from 1 to 1000.")
		}
		maxReceives = n
	}
	if p.DeadLetterTargetARN == q.arn {
		return nil, invalid("A queue cannot be its own dead-letter queue.")
	}
	if s.queueByARNLocked(p.DeadLetterTargetARN) == nil {
		return nil, invalid("Dead letter target does not exist.")
	}
	return &redrivePolicy{DeadLetterTargetARN: p.DeadLetterTargetARN, MaxReceiveCount: maxReceives}, nil
}

// CreateQueue

type createQueueInput struct {
	QueueName  *string           `json:"QueueName"`
	Attributes map[string]string `json:"Attributes"`
	Tags       map[string]string `json:"tags"`
}

type queueURLOutput struct {
	QueueURL string `json:"QueueUrl"`
}

func (s *Server) createQueue(_ context.Context, in *createQueueInput) (*queueURLOutput, error) {
	if in.QueueName == nil {
		return nil, errMissing("QueueName")
	}
	name := *in.QueueName
	if !queueNamePattern.MatchString(name) {
		return nil, errInvalidParam("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queueByNameLocked(name); q != nil {
		current := effectiveAttributes(q, s.now())
		for k, v := range in.Attributes {
			same := current[k] == v
			if k == "RedrivePolicy" {
				// Compared as a policy: SQS echoes it in its own form.
				rp, err := s.parseRedrivePolicyLocked(q, v)
				same = err == nil && q.redrive != nil && *rp == *q.redrive
			}
			if !same {
				return nil, sqsError(0, "QueueNameExists", "QueueAlreadyExists", "A queue already exists with the same name and a different value for attribute %s", k)
			}
		}
		return &queueURLOutput{q.url}, nil
	}
	now := s.now()
	q := &queue{
		name: name, url: s.QueueURL(name), arn: QueueARN(name),
		visibility: defaultVisibility, retention: defaultRetention, maxSize: defaultMaxSize,
		attrs: map[string]string{}, created: now, lastModified: now, wake: make(chan struct{}),
	}
	if err := s.applyAttributesLocked(q, in.Attributes); err != nil {
		return nil, err
	}
	s.queues = append(s.queues, q)
	return &queueURLOutput{q.url}, nil
}

// GetQueueUrl

type getQueueURLInput struct {
	QueueName              *string `json:"QueueName"`
	QueueOwnerAWSAccountID string  `json:"QueueOwnerAWSAccountId"`
}

func (s *Server) getQueueURL(_ context.Context, in *getQueueURLInput) (*queueURLOutput, error) {
	if in.QueueName == nil {
		return nil, errMissing("QueueName")
	}
	if in.QueueOwnerAWSAccountID != "" && in.QueueOwnerAWSAccountID != awslocal.AccountID {
		return nil, errNoQueue()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queueByNameLocked(*in.QueueName)
	if q == nil {
		return nil, errNoQueue()
	}
	return &queueURLOutput{q.url}, nil
}

// GetQueueAttributes, SetQueueAttributes

type getQueueAttributesInput struct {
	QueueURL       *string  `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames"`
}

type attributesOutput struct {
	Attributes map[string]string `json:"Attributes,omitempty"`
}

func (s *Server) getQueueAttributes(_ context.Context, in *getQueueAttributesInput) (*attributesOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, err
	}
	all := effectiveAttributes(q, s.now())
	out := map[string]string{}
	for _, name := range in.AttributeNames {
		if name == "All" {
			maps.Copy(out, all)
			continue
		}
		v, ok := all[name]
		if !ok && !slices.Contains(settableAttributes, name) {
			return nil, sqsError(0, "InvalidAttributeName", "", "Unknown Attribute %s.", name)
		}
		if ok {
			out[name] = v
		}
	}
	return &attributesOutput{out}, nil
}

// effectiveAttributes is every attribute GetQueueAttributes can answer.
func effectiveAttributes(q *queue, now time.Time) map[string]string {
	q.expire(now)
	var visible, inflight, delayed int
	for _, m := range q.messages {
		switch {
		case m.inFlight(now):
			inflight++
		case m.delayed(now):
			delayed++
		default:
			visible++
		}
	}
	all := map[string]string{
		"QueueArn":                              q.arn,
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inflight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
		"CreatedTimestamp":                      strconv.FormatInt(q.created.Unix(), 10),
		"LastModifiedTimestamp":                 strconv.FormatInt(q.lastModified.Unix(), 10),
		"VisibilityTimeout":                     strconv.Itoa(int(q.visibility / time.Second)),
		"DelaySeconds":                          strconv.Itoa(int(q.delay / time.Second)),
		"MessageRetentionPeriod":                strconv.Itoa(int(q.retention / time.Second)),
		"ReceiveMessageWaitTimeSeconds":         strconv.Itoa(int(q.waitTime / time.Second)),
		"MaximumMessageSize":                    strconv.Itoa(q.maxSize),
		"SqsManagedSseEnabled":                  "true",
	}
	for k, v := range q.attrs {
		if _, derived := all[k]; !derived {
			all[k] = v
		}
	}
	return all
}

type setQueueAttributesInput struct {
	QueueURL   *string           `json:"QueueUrl"`
	Attributes map[string]string `json:"Attributes"`
}

type empty struct{}

func (s *Server) setQueueAttributes(_ context.Context, in *setQueueAttributesInput) (*empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, err
	}
	if err := s.applyAttributesLocked(q, in.Attributes); err != nil {
		return nil, err
	}
	q.lastModified = s.now()
	q.notify() // a shorter delay or visibility may free messages
	return &empty{}, nil
}

// DeleteQueue, ListQueues

type queueURLInput struct {
	QueueURL *string `json:"QueueUrl"`
}

func (s *Server) deleteQueue(_ context.Context, in *queueURLInput) (*empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, err
	}
	s.queues = slices.DeleteFunc(s.queues, func(x *queue) bool { return x == q })
	q.notify()
	return &empty{}, nil
}

type listQueuesInput struct {
	QueueNamePrefix string `json:"QueueNamePrefix"`
}

type listQueuesOutput struct {
	QueueUrls []string `json:"QueueUrls,omitempty"`
}

func (s *Server) listQueues(_ context.Context, in *listQueuesInput) (*listQueuesOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &listQueuesOutput{}
	for _, q := range s.queues {
		if strings.HasPrefix(q.name, in.QueueNamePrefix) {
			out.QueueUrls = append(out.QueueUrls, q.url)
		}
	}
	return out, nil
}

// SendMessage, SendMessageBatch

type sendEntry struct {
	ID                *string                     `json:"Id"`
	MessageBody       *string                     `json:"MessageBody"`
	DelaySeconds      *int                        `json:"DelaySeconds"`
	MessageAttributes map[string]MessageAttribute `json:"MessageAttributes"`
	MessageGroupID    *string                     `json:"MessageGroupId"`
}

type sendMessageInput struct {
	QueueURL *string `json:"QueueUrl"`
	sendEntry
}

type sendResult struct {
	ID                     string `json:"Id,omitempty"`
	MessageID              string `json:"MessageId"`
	MD5OfMessageBody       string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty"`
}

// validateSend checks one message; the error is what SendMessage answers.
func validateSend(q *queue, e *sendEntry) error {
	if e.MessageBody == nil || *e.MessageBody == "" {
		return errMissing("MessageBody")
	}
	if !validBody(*e.MessageBody) {
		return sqsError(0, "InvalidMessageContents", "", "Invalid binary character in the message body.")
	}
	if e.DelaySeconds != nil && (*e.DelaySeconds < 0 || *e.DelaySeconds > 900) {
		return errInvalidParam("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.", *e.DelaySeconds)
	}
	if e.MessageGroupID != nil {
		return errInvalidParam("The request include parameter that is not valid for this queue type. Reason: MessageGroupId is only for FIFO queues.")
	}
	if len(e.MessageAttributes) > 10 {
		return errInvalidParam("Number of message attributes [%d] exceeds the allowed maximum [10].", len(e.MessageAttributes))
	}
	for name, a := range e.MessageAttributes {
		lower := strings.ToLower(name)
		if !attrNamePattern.MatchString(name) || strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") ||
			strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return errInvalidParam("Message (user) attribute name '%s' is invalid.", name)
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch base {
		case "String", "Number":
			if a.StringValue == "" {
				return errInvalidParam("Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, base)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
					return errInvalidParam("Could not cast message attribute '%s' value to number.", name)
				}
			}
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return errInvalidParam("Message (user) attribute '%s' must contain a non-empty value of type 'Binary'.", name)
			}
		default:
			return errInvalidParam("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
	}
	if n := messageSize(*e.MessageBody, e.MessageAttributes); n > q.maxSize {
		return errInvalidParam("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.maxSize)
	}
	return nil
}

// enqueueLocked stores a validated message. s.mu must be held.
func (s *Server) enqueueLocked(q *queue, e *sendEntry) sendResult {
	now := s.now()
	delay := q.delay
	if e.DelaySeconds != nil {
		delay = time.Duration(*e.DelaySeconds) * time.Second
	}
	m := &message{
		id: ids.UUID(), body: *e.MessageBody, md5Body: md5Hex([]byte(*e.MessageBody)),
		attrs: e.MessageAttributes, sent: now, visibleAt: now.Add(delay),
	}
	q.messages = append(q.messages, m)
	q.notify()
	return sendResult{MessageID: m.id, MD5OfMessageBody: m.md5Body, MD5OfMessageAttributes: attributesMD5(m.attrs)}
}

func (s *Server) sendMessage(_ context.Context, in *sendMessageInput) (*sendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, err
	}
	if err := validateSend(q, &in.sendEntry); err != nil {
		return nil, err
	}
	res := s.enqueueLocked(q, &in.sendEntry)
	return &res, nil
}

type sendMessageBatchInput struct {
	QueueURL *string     `json:"QueueUrl"`
	Entries  []sendEntry `json:"Entries"`
}

type batchFailure struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

type sendMessageBatchOutput struct {
	Successful []sendResult   `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

// checkBatchIDs applies the rules every batch operation shares.
func checkBatchIDs(idList []*string) error {
	if len(idList) == 0 {
		return sqsError(0, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one entry in the request.")
	}
	if len(idList) > 10 {
		return sqsError(0, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10. You have sent %d.", len(idList))
	}
	seen := map[string]bool{}
	for _, id := range idList {
		if id == nil || !batchIDPattern.MatchString(*id) {
			return sqsError(0, "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[*id] {
			return sqsError(0, "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id %s repeated.", *id)
		}
		seen[*id] = true
	}
	return nil
}

func failureOf(id string, err error) batchFailure {
	f := batchFailure{ID: id, SenderFault: true, Code: "InternalError", Message: err.Error()}
	var e *awsjson.Error
	if errors.As(err, &e) {
		f.Code, f.Message = e.Type, e.Message
		if e.QueryCode != "" {
			f.Code = e.QueryCode
		}
	}
	return f
}

func (s *Server) sendMessageBatch(_ context.Context, in *sendMessageBatchInput) (*sendMessageBatchOutput, error) {
	idList := make([]*string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		idList[i] = e.ID
		if e.MessageBody != nil {
			total += messageSize(*e.MessageBody, e.MessageAttributes)
		}
	}
	if err := checkBatchIDs(idList); err != nil {
		return nil, err
	}
	if total > defaultMaxSize {
		return nil, sqsError(0, "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", "Batch requests cannot be longer than %d bytes. You have sent %d bytes.", defaultMaxSize, total)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, err
	}
	out := &sendMessageBatchOutput{Successful: []sendResult{}, Failed: []batchFailure{}}
	for i := range in.Entries {
		e := &in.Entries[i]
		if err := validateSend(q, e); err != nil {
			out.Failed = append(out.Failed, failureOf(*e.ID, err))
			continue
		}
		res := s.enqueueLocked(q, e)
		res.ID = *e.ID
		out.Successful = append(out.Successful, res)
	}
	return out, nil
}

// ReceiveMessage

type receiveMessageInput struct {
	QueueURL                    *string  `json:"QueueUrl"`
	MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int     `json:"VisibilityTimeout"`
	WaitTimeSeconds             *int     `json:"WaitTimeSeconds"`
	AttributeNames              []string `json:"AttributeNames"`
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
	MessageAttributeNames       []string `json:"MessageAttributeNames"`
}

type receivedMessage struct {
	MessageID              string                      `json:"MessageId"`
	ReceiptHandle          string                      `json:"ReceiptHandle"`
	MD5OfBody              string                      `json:"MD5OfBody"`
	Body                   string                      `json:"Body"`
	Attributes             map[string]string           `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                      `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]MessageAttribute `json:"MessageAttributes,omitempty"`
}

type receiveMessageOutput struct {
	Messages []receivedMessage `json:"Messages,omitempty"`
}

func (s *Server) receiveMessage(ctx context.Context, in *receiveMessageInput) (*receiveMessageOutput, error) {
	limit := 1
	if in.MaxNumberOfMessages != nil {
		limit = *in.MaxNumberOfMessages
		if limit < 1 || limit > 10 {
			return nil, errInvalidParam("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", limit)
		}
	}
	if in.VisibilityTimeout != nil && (*in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200) {
		return nil, errInvalidParam("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", *in.VisibilityTimeout)
	}
	if in.WaitTimeSeconds != nil && (*in.WaitTimeSeconds < 0 || *in.WaitTimeSeconds > 20) {
		return nil, errInvalidParam("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *in.WaitTimeSeconds)
	}
	systemNames := append(slices.Clone(in.MessageSystemAttributeNames), in.AttributeNames...)

	s.mu.Lock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	wait := q.waitTime
	if in.WaitTimeSeconds != nil {
		wait = time.Duration(*in.WaitTimeSeconds) * time.Second
	}
	s.mu.Unlock()

	deadline := time.Now().Add(wait) // long polls wait in real time
	for {
		s.mu.Lock()
		q, err := s.queueLocked(in.QueueURL)
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		msgs, nextVisible := s.receiveLocked(q, limit, in.VisibilityTimeout, systemNames, in.MessageAttributeNames)
		wake := q.wake
		now := s.now()
		s.mu.Unlock()

		remaining := time.Until(deadline)
		if len(msgs) > 0 || remaining <= 0 {
			return &receiveMessageOutput{Messages: msgs}, nil
		}
		if !nextVisible.IsZero() {
			remaining = min(remaining, max(nextVisible.Sub(now), time.Millisecond))
		}
		if err := s.park(ctx, wake, remaining); err != nil {
			return nil, err
		}
	}
}

// park waits for wake, the timeout or the end of the request.
func (s *Server) park(ctx context.Context, wake <-chan struct{}, timeout time.Duration) error {
	s.mu.Lock()
	s.addPollerLocked(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.addPollerLocked(-1)
		s.mu.Unlock()
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-wake:
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// receiveLocked takes up to limit visible messages, redriving those received
// maxReceiveCount times to the dead-letter queue. It also reports when the
// next hidden message becomes visible. s.mu must be held.
func (s *Server) receiveLocked(q *queue, limit int, visibility *int, systemNames, attrNames []string) ([]receivedMessage, time.Time) {
	now := s.now()
	q.expire(now)
	timeout := q.visibility
	if visibility != nil {
		timeout = time.Duration(*visibility) * time.Second
	}
	var out []receivedMessage
	var nextVisible time.Time
	for _, m := range slices.Clone(q.messages) {
		if len(out) == limit {
			break
		}
		if !m.visible(now) {
			if nextVisible.IsZero() || m.visibleAt.Before(nextVisible) {
				nextVisible = m.visibleAt
			}
			continue
		}
		if q.redrive != nil && m.receiveCount >= q.redrive.MaxReceiveCount {
			if s.redriveLocked(q, m, now) {
				continue
			}
		}
		m.receiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.receiptHandle = newReceiptHandle(m.id, ids.UUID())
		m.visibleAt = now.Add(timeout)
		out = append(out, received(m, systemNames, attrNames))
	}
	return out, nextVisible
}

// redriveLocked moves m to q's dead-letter queue, keeping its id, body,
// attributes, send time and receive count, as SQS does.
func (s *Server) redriveLocked(q *queue, m *message, now time.Time) bool {
	dlq := s.queueByARNLocked(q.redrive.DeadLetterTargetARN)
	if dlq == nil {
		return false // the dead-letter queue was deleted; SQS keeps the message
	}
	q.remove(m)
	m.visibleAt, m.receiptHandle, m.dlqSourceARN = now, "", q.arn
	dlq.messages = append(dlq.messages, m)
	dlq.notify()
	s.logger.Debug("sqs redrive", "queue", q.name, "dead_letter_queue", dlq.name, "message_id", m.id, "receive_count", m.receiveCount)
	return true
}

func received(m *message, systemNames, attrNames []string) receivedMessage {
	r := receivedMessage{MessageID: m.id, ReceiptHandle: m.receiptHandle, MD5OfBody: m.md5Body, Body: m.body}
	system := map[string]string{
		"SenderId":                         senderID,
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.receiveCount),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
	}
	if m.dlqSourceARN != "" {
		system["DeadLetterQueueSourceArn"] = m.dlqSourceARN
	}
	for _, name := range systemNames {
		if name == "All" {
			r.Attributes = system
			break
		}
		if v, ok := system[name]; ok {
			if r.Attributes == nil {
				r.Attributes = map[string]string{}
			}
			r.Attributes[name] = v
		}
	}
	for name, a := range m.attrs {
		if attributeSelected(name, attrNames) {
			if r.MessageAttributes == nil {
				r.MessageAttributes = map[string]MessageAttribute{}
			}
			r.MessageAttributes[name] = a
		}
	}
	r.MD5OfMessageAttributes = attributesMD5(r.MessageAttributes)
	return r
}

// attributeSelected applies MessageAttributeNames: "All", ".*", exact names
// and "prefix.*".
func attributeSelected(name string, selectors []string) bool {
	for _, sel := range selectors {
		switch {
		case sel == "All" || sel == ".*":
			return true
		case strings.HasSuffix(sel, ".*") && strings.HasPrefix(name, strings.TrimSuffix(sel, "*")):
			return true
		case sel == name:
			return true
		}
	}
	return false
}

// DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility

type deleteMessageInput struct {
	QueueURL      *string `json:"QueueUrl"`
	ReceiptHandle *string `json:"ReceiptHandle"`
}

func errBadHandle(h string) *awsjson.Error {
	return sqsError(http.StatusNotFound, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The input receipt handle \"%s\" is not a valid receipt handle.", h)
}

// deleteLocked deletes the message a receipt handle names. A handle of a
// message already gone is accepted, and one from an earlier receive does
// not delete, as the SQS documentation says for standard queues.
func deleteLocked(q *queue, handle *string) error {
	if handle == nil || *handle == "" {
		return errMissing("ReceiptHandle")
	}
	id, ok := parseReceiptHandle(*handle)
	if !ok {
		return errBadHandle(*handle)
	}
	for _, m := range q.messages {
		if m.id == id && m.receiptHandle == *handle {
			q.remove(m)
			return nil
		}
	}
	return nil
}

func (s *Server) deleteMessage(_ context.Context, in *deleteMessageInput) (*empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, err
	}
	if err := deleteLocked(q, in.ReceiptHandle); err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type deleteMessageBatchInput struct {
	QueueURL *string `json:"QueueUrl"`
	Entries  []struct {
		ID            *string `json:"Id"`
		ReceiptHandle *string `json:"ReceiptHandle"`
	} `json:"Entries"`
}

type batchSuccess struct {
	ID string `json:"Id"`
}

type deleteMessageBatchOutput struct {
	Successful []batchSuccess `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

func (s *Server) deleteMessageBatch(_ context.Context, in *deleteMessageBatchInput) (*deleteMessageBatchOutput, error) {
	idList := make([]*string, len(in.Entries))
	for i, e := range in.Entries {
		idList[i] = e.ID
	}
	if err := checkBatchIDs(idList); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, err
	}
	out := &deleteMessageBatchOutput{Successful: []batchSuccess{}, Failed: []batchFailure{}}
	for _, e := range in.Entries {
		if err := deleteLocked(q, e.ReceiptHandle); err != nil {
			out.Failed = append(out.Failed, failureOf(*e.ID, err))
			continue
		}
		out.Successful = append(out.Successful, batchSuccess{*e.ID})
	}
	return out, nil
}

type changeVisibilityInput struct {
	QueueURL          *string `json:"QueueUrl"`
	ReceiptHandle     *string `json:"ReceiptHandle"`
	VisibilityTimeout *int    `json:"VisibilityTimeout"`
}

func (s *Server) changeMessageVisibility(_ context.Context, in *changeVisibilityInput) (*empty, error) {
	timeout := 0
	if in.VisibilityTimeout != nil {
		timeout = *in.VisibilityTimeout
	}
	if timeout < 0 || timeout > 43200 {
		return nil, errInvalidParam("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", timeout)
	}
	if in.ReceiptHandle == nil || *in.ReceiptHandle == "" {
		return nil, errMissing("ReceiptHandle")
	}
	id, ok := parseReceiptHandle(*in.ReceiptHandle)
	if !ok {
		return nil, errBadHandle(*in.ReceiptHandle)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, m := range q.messages {
		if m.id != id {
			continue
		}
		if m.receiptHandle != *in.ReceiptHandle || !m.inFlight(now) {
			break
		}
		m.visibleAt = now.Add(time.Duration(timeout) * time.Second)
		if timeout == 0 {
			q.notify()
		}
		return &empty{}, nil
	}
	return nil, sqsError(0, "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "The message referred to isn't in flight.")
}

// PurgeQueue

func (s *Server) purgeQueue(_ context.Context, in *queueURLInput) (*empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !q.lastPurge.IsZero() && now.Sub(q.lastPurge) < purgeInterval {
		return nil, sqsError(http.StatusForbidden, "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress",
			"Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.name)
	}
	q.lastPurge = now
	q.messages = nil
	return &empty{}, nil
}

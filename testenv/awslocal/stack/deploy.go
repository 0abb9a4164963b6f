package stack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/shared/secrets"
	localsqs "github.com/orgwarden/orgwarden/testenv/awslocal/sqs"
)

// Deployment is what the CDK stack creates for the functions, in the terms
// a local stack needs to create the same: the demo and the end-to-end
// world both deploy through it, so they cannot drift apart.
type Deployment struct {
	// Buckets are created empty (the audit and state buckets).
	Buckets []string
	// Queue is the offboarding queue; DLQ its dead-letter queue, which
	// receives a message after MaxReceiveCount receives.
	Queue, DLQ      string
	MaxReceiveCount int
	// QueueAttributes are added to the queue's (e.g. VisibilityTimeout).
	QueueAttributes map[string]string
	// AdminKeySecret names the secret that holds the deployment's admin
	// key AdminKey (id AdminKeyID), as an admin_key secret document.
	AdminKeySecret, AdminKeyID string
	AdminKey                   string
}

// Deployed is what Deploy created that the functions' environment names.
type Deployed struct {
	QueueURL, DLQURL  string
	AdminKeySecretARN string
}

// Deploy creates d's buckets, queues (with the redrive policy) and admin-key
// secret through the real SDK clients.
func (st *Stack) Deploy(ctx context.Context, d Deployment) (Deployed, error) {
	var out Deployed
	for _, b := range d.Buckets {
		if err := st.S3.CreateBucket(ctx, b); err != nil {
			return out, err
		}
	}
	dlq, err := st.SQS.CreateQueue(ctx, d.DLQ, nil)
	if err != nil {
		return out, fmt.Errorf("create dead-letter queue: %w", err)
	}
	redrive, err := json.Marshal(map[string]any{"deadLetterTargetArn": localsqs.QueueARN(d.DLQ), "maxReceiveCount": d.MaxReceiveCount})
	if err != nil {
		return out, fmt.Errorf("redrive policy: %w", err)
	}
	attrs := map[string]string{"RedrivePolicy": string(redrive)}
	for k, v := range d.QueueAttributes {
		attrs[k] = v
	}
	queue, err := st.SQS.CreateQueue(ctx, d.Queue, attrs)
	if err != nil {
		return out, fmt.Errorf("create queue: %w", err)
	}
	out.QueueURL, out.DLQURL = queue, dlq

	doc, err := json.Marshal(map[string]string{"type": secrets.TypeAdminKey, "api_key": d.AdminKey, "key_id": d.AdminKeyID})
	if err != nil {
		return out, fmt.Errorf("admin key secret document: %w", err)
	}
	sec, err := st.SecretsManager.Client().CreateSecret(ctx, &awssm.CreateSecretInput{
		Name: aws.String(d.AdminKeySecret), SecretString: aws.String(string(doc)),
	})
	if err != nil {
		return out, fmt.Errorf("create admin key secret: %w", err)
	}
	out.AdminKeySecretARN = aws.ToString(sec.ARN)
	return out, nil
}

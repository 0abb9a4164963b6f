package secretsmanager

import (
	"context"
	"fmt"

	"github.com/orgwarden/orgwarden/testenv/awslocal/awsjson"
	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/ids"
)

type rotateSecretInput struct {
	SecretID           string         `json:"SecretId"`
	ClientRequestToken *string        `json:"ClientRequestToken"`
	RotationLambdaARN  string         `json:"RotationLambdaARN"`
	RotationRules      *RotationRules `json:"RotationRules"`
	RotateImmediately  *bool          `json:"RotateImmediately"`
}

type rotateSecretOutput struct {
	secretRef
	VersionID string `json:"VersionId,omitempty"`
}

const msgRotationInProgress = "A previous rotation isn't complete. That rotation will be reattempted."

// rotateSecret configures rotation and runs the four steps of the rotation
// function with the new version's token.
//
// A rotation that failed leaves its AWSPENDING version on a version other
// than AWSCURRENT. AWS then refuses a new rotation with "A previous rotation
// isn't complete. That rotation will be reattempted." and reattempts it with
// the pending version's token; here the reattempt runs before that error is
// returned. A RotateSecret whose ClientRequestToken is the pending version's
// id resumes that rotation and succeeds.
func (s *Server) rotateSecret(ctx context.Context, in *rotateSecretInput) (*rotateSecretOutput, error) {
	token, err := checkToken(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	if r := in.RotationRules; r != nil && r.AutomaticallyAfterDays != nil && (*r.AutomaticallyAfterDays < 1 || *r.AutomaticallyAfterDays > 1000) {
		return nil, awsjson.Errorf(errInvalidParam, "AutomaticallyAfterDays must be between 1 and 1000.")
	}

	s.mu.Lock()
	sec, err := s.lookupLiveLocked(in.SecretID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if sec.rotating {
		s.mu.Unlock()
		return nil, awsjson.Errorf(errInvalidReq, msgRotationInProgress)
	}
	if in.RotationLambdaARN != "" {
		sec.rotationLambdaARN = in.RotationLambdaARN
	}
	if in.RotationRules != nil {
		sec.rotationRules = in.RotationRules
	}
	if sec.rotationLambdaARN == "" {
		s.mu.Unlock()
		return nil, awsjson.Errorf(errInvalidReq, "No Lambda rotation function ARN is associated with this secret.")
	}
	sec.rotationEnabled = true
	ref := sec.ref()
	if in.RotateImmediately != nil && !*in.RotateImmediately {
		s.mu.Unlock()
		return &rotateSecretOutput{secretRef: ref}, nil
	}
	invoker := s.invoker
	if invoker == nil {
		s.mu.Unlock()
		return nil, awsjson.Errorf(errInvalidReq, "Secrets Manager cannot invoke the specified Lambda function: the emulator has no rotation invoker (secretsmanager.WithRotationInvoker).")
	}

	var refused error
	resumed := false
	if pending, current := sec.withStage(StagePending), sec.withStage(StageCurrent); pending != nil && pending != current {
		resumed = true
		if pending.id != token {
			refused = awsjson.Errorf(errInvalidReq, msgRotationInProgress)
			token = pending.id
		}
	}
	sec.rotating = true
	functionARN := sec.rotationLambdaARN
	s.mu.Unlock()

	attempt := RotationAttempt{SecretARN: ref.ARN, Token: token, Resumed: resumed}
	event := RotationEvent{SecretID: ref.ARN, ClientRequestToken: token, RotationToken: ids.UUID()}
	for _, step := range []string{StepCreate, StepSet, StepTest, StepFinish} {
		attempt.Steps = append(attempt.Steps, step)
		event.Step = step
		if err := invoker(ctx, functionARN, event); err != nil {
			attempt.Err = fmt.Errorf("rotation step %s: %w", step, err)
			break
		}
	}

	s.mu.Lock()
	sec.rotating = false
	if attempt.Err == nil {
		sec.lastRotated = s.now()
	}
	s.rotations = append(s.rotations, attempt)
	s.mu.Unlock()
	s.logger.Debug("rotation attempt", "secret", ref.Name, "steps", attempt.Steps, "failed", attempt.Err != nil)

	if refused != nil {
		return nil, refused
	}
	return &rotateSecretOutput{secretRef: ref, VersionID: token}, nil
}
